"""`make small-vocab`: rebuild the bundled Gemma's small-vocabulary token list
(agents/data/gemma3_tokens.b64, read by agents/small_vocab.py) from the plays, the plays
as pages serve them, Python's help topics and the most frequent English words (wordfreq,
a build-time need only)."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from dramatis.agents.small_vocab import KEEP, NORMAL, vocabulary, write_keep


def build_keep(source: Path, texts: Iterable[str], words: Iterable[str]) -> np.ndarray:
    """The ids to keep of GGUF `source`: those its tokeniser uses on `texts` (each
    paragraph as written and after a blank line) and on `words` (each bare and after a
    space, lower case and capitalised); every token of ASCII punctuation, digits and
    spaces; every token that is not an ordinary one (control, byte, user-defined) but the
    unused ones; and every token that is a substring of a kept one (the tokeniser's
    merges pass through them)."""
    import llama_cpp

    llm = llama_cpp.Llama(str(source), vocab_only=True, verbose=False)

    def tokens(text: str) -> list[int]:
        return llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)

    used: set[int] = set()
    for text in texts:
        for para in text.split("\n\n"):
            used.update(tokens(para))
            used.update(tokens("\n\n" + para))
    for word in words:
        for form in {word, word.capitalize()}:
            used.update(tokens(form))
            used.update(tokens(" " + form))
    vocab, types = vocabulary(source)
    marks = re.compile(r"^[\u2581\s!-/0-9:-@\[-`{-~]+$")
    keep = used | {i for i, v in enumerate(vocab) if marks.match(v)}
    keep |= {i for i, t in enumerate(types) if t != NORMAL and not vocab[i].startswith("<unused")}
    index = {v: i for i, v in enumerate(vocab)}
    for i in list(keep):
        word = vocab[i]
        for a in range(len(word)):
            for b in range(a + 1, len(word) + 1):
                j = index.get(word[a:b])
                if j is not None:
                    keep.add(j)
    return np.array(sorted(keep), dtype=np.int64)


WORDS = 50_000  # the most frequent English words (wordfreq) whose tokens stay


def page_lines(key: str) -> str:
    """A play's speeches as a page lays them out: a `NAME: speech` line each, a heading
    in capitals (paragraphs, as `build_keep` reads text, of one speech each)."""
    from dramatis.personas.corpus import load_play

    return "\n\n".join(
        f"{s.speaker.upper()}: {s.text}\n{s.speaker.upper()}:" for s in load_play(key).speeches()
    )


def main(argv: list[str] | None = None) -> int:
    """`make small-vocab`: rebuild the token list from the plays, Python's help topics and
    the most frequent English words (wordfreq, a build-time need only)."""
    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--out", type=Path, default=KEEP)
    ap.add_argument("--words", type=int, default=WORDS)
    args = ap.parse_args(argv)
    try:
        import wordfreq
    except ImportError:
        raise SystemExit(
            "wordfreq is needed to build the list: pip install wordfreq==3.1.1"
        ) from None
    import pydoc_data.topics

    from dramatis.agents.catalog import resolve_model
    from dramatis.personas.corpus import list_plays, texts_dir

    source = resolve_model("gemma3-270m")
    texts = [p.read_text(encoding="utf-8") for p in sorted(texts_dir().glob("*.txt"))]
    texts += [page_lines(key) for key in list_plays()]  # the speeches as pages serve them
    texts += list(pydoc_data.topics.topics.values())
    keep = build_keep(source, texts, wordfreq.top_n_list("en", args.words))
    size = len(vocabulary(source)[0])
    write_keep(keep, size, args.out)
    print(f"{len(keep)} of {size} tokens kept -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
