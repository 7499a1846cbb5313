"""llama.cpp backend (llama-cpp-python): any GGUF file, CPU by default."""

from __future__ import annotations

import contextlib
import functools
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

from dramatis.agents.known_words import KnownWords, Vocabulary, after, keep_known, open_word
from dramatis.agents.model import (
    FEATURES,
    LONG_LETTERS,
    Completion,
    LanguageModel,
    Message,
    Sampling,
)
from dramatis.core.errors import DramatisError
from dramatis.personas.vocabulary import plays_words


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Send what C code writes to standard error to /dev/null for a while (llama.cpp logs
    "using full-size SWA cache" for Gemma 3 while creating a context, and "cannot use
    buft CPU_REPACK" for each LoRA tensor on a repacked Q4_K base, whatever the log
    level); a failure still raises, with its own message."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@functools.lru_cache(maxsize=1)
def long_stems() -> frozenset[str]:
    """Every beginning of LONG_LETTERS letters or more of a word the plays use."""
    return frozenset(
        w[:n]
        for w in plays_words()
        if w.isalpha() and w.islower()
        for n in range(LONG_LETTERS, len(w) + 1)
    )


_LONG = re.compile(
    rb" [a-z]{%d,}" % LONG_LETTERS
)  # `long_tokens`: a space, then lower-case letters
BLOCK = 64  # tokens per evaluation batch; a kept prefix ends on a multiple of it
# A raised word: (word, its spellings' token ids, the first tokens raised, the raise)
Boost = tuple[str, list[tuple[int, ...]], set[int], float]


def _window(made: Sequence[int], last_n: int) -> np.ndarray:
    """The generated tokens llama.cpp's penalties look at: the last `last_n` (0: all)."""
    return np.fromiter(made[-last_n:] if last_n > 0 else made, dtype=np.intp)


def unpenalise(
    scores: np.ndarray, made: Sequence[int], spared: np.ndarray, sampling: Sampling, last_n: int
) -> None:
    """Undo in advance, for the `spared` tokens among the last `last_n` generated, what
    llama.cpp's penalties (which run after the processor) will do to their logits: there a
    logit x becomes r(x) - presence, r dividing a positive logit by the repeat penalty and
    multiplying a negative one; here x becomes r⁻¹(x + presence), so that they end at x.

    A comma at logit 2.0, repeat 1.2, presence 0.3: here 2.76, after the penalties 2.0.
    """
    ids = np.intersect1d(_window(made, last_n), spared)
    if not len(ids):
        return
    z = scores[ids] + sampling.presence_penalty
    rp = sampling.repeat_penalty
    scores[ids] = np.where(z <= 0, z / rp, z * rp)


def penalised(
    scores: np.ndarray, made: Sequence[int], sampling: Sampling, last_n: int
) -> np.ndarray:
    """A copy of `scores` as llama.cpp's penalties (which run after the processor) will
    leave them: each of the last `last_n` generated tokens' logit x becomes r(x) -
    presence, r dividing a positive logit by the repeat penalty and multiplying a
    negative one (what `unpenalise` undoes in advance for the spared ones).

    A token said at logit 2.0, repeat 1.2, presence 0.3: 2.0 / 1.2 - 0.3 = 1.37.
    """
    view = scores.copy()
    rp, presence = sampling.repeat_penalty, sampling.presence_penalty
    if rp == 1.0 and presence == 0.0:
        return view
    ids = np.unique(_window(made, last_n))
    if len(ids):
        x = view[ids]
        view[ids] = np.where(x <= 0, x * rp, x / rp) - presence
    return view


def _block_aligned(base: type) -> type:
    """`base` (llama_cpp.Llama) evaluating each prompt in batches at fixed positions
    (multiples of its `n_batch`, which equals `n_ubatch`) and keeping, of what it
    evaluated before, only the whole batches of a prompt (`whole` tokens): the keys and
    values of a kept block were computed exactly as a fresh process computes them, so a
    prompt's logits do not depend on what the context evaluated before it.

    One exception, set per call with `continues`: a prompt that begins with the prompt of
    the last completion that did not continue another (a turn's draw), as its retries
    and its run-on do (the same prompt again; the prompt and what the draw made, run on to
    its sentence's end), keeps all of that evaluation, made tokens included. A new process
    reaches the same point by the same steps (the draw's prompt in blocks, then its tokens
    one by one), so the logits still do not depend on the process; the kept blocks
    (`whole`) stay those of the draw's prompt.

    And a prompt that is the last one again (a turn's next candidate) keeps all of its
    evaluation: the logits saved after its last token are put back (`_again`), which is
    what evaluating its last part block again would give."""

    class BlockAligned(base):  # type: ignore[misc, valid-type]
        whole = 0  # tokens [0, whole) were evaluated as whole blocks of a prompt
        anchor = 0  # the prompt length of the last completion that did not continue
        continues = False  # the next prompt begins with the anchor's prompt
        reuse = True  # a draw of the anchor's prompt again starts from its saved logits
        last: tuple[tuple[int, ...], np.ndarray] | None = None  # anchor prompt, its logits

        def generate(self, tokens: Sequence[int], *args: Any, **kwargs: Any) -> Iterator[int]:
            tokens = list(tokens)
            if not self.continues and self._again(tokens):
                yield from super().generate(tokens, *args, **kwargs)
                return
            block = self.n_batch
            evaluated: int = getattr(self, "n_tokens", 0)
            continues, self.continues = self.continues, False
            n = min(evaluated, len(tokens) - 1)  # one token stays to do
            same = np.asarray(self.input_ids[:n]) == np.asarray(tokens[:n], dtype=np.intc)
            shared = int(np.argmin(same)) if n and not same.all() else n
            # all of the anchor's prompt but, for the same prompt again, its last token
            kept_all = continues and 0 < self.anchor <= shared + 1
            kept = shared if kept_all else min(shared, self.whole) // block * block
            self.whole = min(self.whole, kept // block * block)
            self.n_tokens = kept  # the base keeps this much
            if not kept_all:
                self.anchor = 0
            for i, token in enumerate(super().generate(tokens, *args, **kwargs)):
                if i == 0 and not kept_all:  # the prompt is evaluated, in blocks
                    self.whole = len(tokens) // block * block
                    self.anchor = len(tokens)
                    self.last = (tuple(tokens), self._logits().copy()) if self.reuse else None
                yield token

        def _logits(self) -> np.ndarray:
            """The context's logits of its last evaluated token (a view, writable)."""
            import llama_cpp

            row = llama_cpp.llama_get_logits_ith(self.ctx, -1)
            return np.ctypeslib.as_array(row, shape=(self.n_vocab(),))

        def _again(self, tokens: list[int]) -> bool:
            """For a prompt that is the anchor's prompt again (a turn's next draw, after the
            last one's tokens): keep all of its evaluation and put back its logits, saved
            when it was evaluated, so the draw starts where the last one did with no part
            block evaluated again (evaluating it again gives the same numbers). True when
            that was done."""
            last, n = self.last, len(tokens)
            if last is None or self.anchor != n or self.n_tokens < n or last[0] != tuple(tokens):
                return False
            if not np.array_equal(self.input_ids[:n], np.asarray(tokens, dtype=np.intc)):
                return False
            self.n_tokens = n  # generate() finds the prompt whole and samples at once
            self._requires_eval = False
            self._logits()[:] = last[1]
            return True

    return BlockAligned


class LlamaCppModel(LanguageModel):
    """A GGUF model run by llama.cpp in this process.

    `n_threads` matters on small machines: two busy llama.cpp threads on two
    cores shared with anything else collapse throughput, one thread holds up.
    `n_ubatch`: tokens per evaluation batch (`BLOCK` by default). llama.cpp's CPU kernels
    round differently for different batches, so a prompt evaluated whole and the same
    prompt as a kept prefix plus a tail can give different logits (up to 0.35 on Gemma 3
    270M), enough to sample another word. A resumed scene, in a new process, evaluates
    each prompt from its start, where the uninterrupted run kept the previous turn's
    prefix; so prompts are evaluated in blocks at fixed positions, and only whole blocks
    are kept (`_block_aligned`): the logits then depend on the tokens alone. With 1
    everything is kept (slower prefill: benchmarks/prefix_reuse.py).
    """

    supports = frozenset(FEATURES)  # bans and boosts through logit bias and a processor

    def __init__(
        self,
        path: str | Path,
        *,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        seed: int = 0,
        cache_mb: float = 256.0,
        n_ubatch: int = 0,
        run_path: str | Path | None = None,
    ) -> None:
        path = Path(path).expanduser()
        if not path.is_file():
            raise DramatisError(f"model file not found: {path} (pass --model with a .gguf path)")
        # `run_path`: the file llama.cpp runs, when it is another form of `path` (the
        # small-vocabulary copy, agents/small_vocab.py); `path` stays the model's identity,
        # the base adapters are checked against.
        run = Path(run_path) if run_path is not None else path
        try:
            from llama_cpp import Llama
        except ImportError as err:  # pragma: no cover - install problem
            raise DramatisError("llama-cpp-python is not installed: run `make install`") from err
        threads = n_threads or max(1, min(4, os.cpu_count() or 1))
        block = n_ubatch or BLOCK
        try:
            with _quiet_stderr():  # llama.cpp notes some models' cache setup even when quiet
                self._llm = _block_aligned(Llama)(
                    model_path=str(run),
                    n_ctx=n_ctx,
                    n_batch=block,
                    n_ubatch=block,
                    n_threads=threads,
                    n_threads_batch=threads,
                    seed=seed,
                    verbose=False,
                )
        except (ValueError, RuntimeError) as err:
            raise DramatisError(
                f"cannot load model {run}: not a readable GGUF file ({err})"
            ) from err
        self.path = path
        self.name = path.stem
        self.n_threads = threads
        self._lock = threading.Lock()  # one llama context: one generation at a time
        self._template = self._llm.metadata.get("tokenizer.chat_template")
        self._loras: Any = None  # a LoraSet, made when the first adapter is loaded
        self.cache_mb = cache_mb  # saved per-adapter prefixes (agents/prefix_cache.py)
        self._bans: dict[tuple[str, ...], dict[int, float]] = {}  # banned words -> logit bias
        self._tilts: dict[tuple[tuple[str, float], ...], dict[int, float]] = {}  # Sampling.tilted
        self._biases: dict[Any, dict[int, float]] = {}  # (tilted, long_words, banned) -> bias
        self._breaks: np.ndarray | None = None  # ids of tokens that end a speech
        self._commas: np.ndarray | None = None  # ids of tokens that are commas only
        self._long: np.ndarray | None = None  # ids of tokens that start a long word
        self._spares: dict[tuple[str, ...], np.ndarray] = {}  # Sampling.spared_words -> ids
        self._whole: dict[Any, int] = {}  # `whole` of each adapter set's saved prefix
        self._vocabulary: Vocabulary | None = None  # the tokens as the word checks read them
        self._known: dict[frozenset[str], KnownWords] = {}  # a page's words -> its checks

    @property
    def adapters(self) -> tuple[str, ...]:
        return self._loras.names if self._loras else ()

    def load_adapter(
        self, name: str, path: str | Path, *, base_sha256: str | None = None, **_: object
    ) -> None:
        """Load a GGUF LoRA (see agents/lora.py); `Sampling(adapter=name)` applies it."""
        from dramatis.agents.lora import LoraSet

        with self._lock:
            self._loras = self._loras or LoraSet(self._llm, cache_mb=self.cache_mb)
            with _quiet_stderr():
                self._loras.load(name, path, base_sha256=base_sha256)

    def stack_under(self, name: str, scale: float = 1.0) -> None:
        """Apply loaded adapter `name` under every turn's own (agents/lora.py)."""
        with self._lock:
            if self._loras is None:
                raise DramatisError(f"adapter {name!r} is not loaded on {self.name}")
            self._loras.stack_under(name, scale)

    def _use_adapter(self, name: str | None) -> None:
        """Set the context's adapter for the next generation (caller holds the lock)."""
        if self._loras is None:
            if name is not None:
                raise DramatisError(f"adapter {name!r} is not loaded on {self.name}")
            return
        before = self._loras.current
        if self._loras.apply(name):  # with the stacked one under it, if any
            # the context now holds the entering set's saved prefix (or nothing)
            self._whole[before] = self._llm.whole
            self._llm.whole = self._whole.pop(self._loras.current, 0)
            self._llm.anchor = 0

    @property
    def cache_stats(self) -> dict[str, int]:
        """Per-adapter prefix cache counters (all zero without adapters)."""
        if self._loras is None:
            return {}
        return {**self._loras.caches.stats.as_dict(), "bytes": self._loras.caches.nbytes}

    @property
    def context_length(self) -> int:
        return int(self._llm.n_ctx())

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def render_chat(self, messages: Sequence[Message]) -> str | None:
        if not self._template:
            return None
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        vocab = self._llm
        formatter = Jinja2ChatFormatter(
            template=self._template,
            eos_token=vocab.detokenize([vocab.token_eos()]).decode("utf-8", "ignore"),
            bos_token=vocab.detokenize([vocab.token_bos()]).decode("utf-8", "ignore"),
            add_generation_prompt=True,
        )
        rendered = formatter(messages=[{"role": m.role, "content": m.content} for m in messages])
        return rendered.prompt

    def spellings(self, word: str) -> list[tuple[int, ...]]:
        """The token sequences of `word` in its spellings: as given and with a capital,
        each with and without a leading space ("play", " Play", ...; a name given with
        its capital stays capitalised)."""
        tokenize = self._llm.tokenize
        return [
            tuple(tokenize(f.encode("utf-8"), add_bos=False, special=False))
            for f in self.forms(word)
        ]

    @staticmethod
    def forms(word: str) -> list[str]:
        """The spellings `spellings` tokenises: as given, capitalised, each after a space
        (the capital on the first letter: "'Tis").

        forms("'tis") -> ["'tis", "'Tis", " 'tis", " 'Tis"]"""
        at = next((i for i, c in enumerate(word) if c.isalpha()), 0)
        cap = word[:at] + word[at : at + 1].upper() + word[at + 1 :]
        return list(dict.fromkeys((word, cap, f" {word}", f" {cap}")))

    def _starts(self, spellings: Sequence[tuple[int, ...]], least: int) -> set[int]:
        """First tokens of `spellings` that are the whole word, or a stem of `least`+ letters."""
        ids: set[int] = set()
        for toks in spellings:
            first = self._llm.detokenize(list(toks[:1])).decode("utf-8", "ignore").strip()
            if len(toks) == 1 or len(first) >= least:
                ids.add(toks[0])
        return ids

    def word_tokens(self, word: str) -> set[int]:
        """The token ids a ban bars: a spelling that is one token gives that token; a
        longer one its first token only when that is the word's own stem of four letters
        or more (" Shakespeare" -> " Shakes"), so that no short common piece is touched."""
        return self._starts(self.spellings(word), 4)

    def banned_tokens(self, words: tuple[str, ...]) -> dict[int, float]:
        """Logit bias that keeps `words` out (see `word_tokens` for which tokens)."""
        if words not in self._bans:
            self._bans[words] = {i: -100.0 for w in words for i in self.word_tokens(w)}
        return self._bans[words]

    def start_tokens(self, word: str) -> list[int]:
        """`word`'s spellings that are one token and start a word (" what", " What", and
        "What" at a verse line's start; not a bare "what", which is mostly the end of
        another word: "some|what")."""
        pairs = zip(self.forms(word), self.spellings(word), strict=True)
        return [toks[0] for form, toks in pairs if len(toks) == 1 and form != word]

    def spared_tokens(self, words: tuple[str, ...]) -> np.ndarray:
        """Ids the penalties leave alone for `Sampling.spared_words` (`start_tokens`)."""
        if words not in self._spares:
            ids = {i for w in words for i in self.start_tokens(w)}
            self._spares[words] = np.array(sorted(ids), dtype=np.intp)
        return self._spares[words]

    def tilt_tokens(self, tilted: tuple[tuple[str, float], ...]) -> dict[int, float]:
        """Logit bias for `Sampling.tilted`: each word's bias on its `start_tokens`. A
        word of several tokens is left alone. Such a token can still begin a longer word
        (" What|'s", " can|st"), which the bias then moves too."""
        if tilted not in self._tilts:
            found: dict[int, float] = {}
            for word, value in tilted:
                found.update(dict.fromkeys(self.start_tokens(word) if value else (), value))
            self._tilts[tilted] = found
        return self._tilts[tilted]

    def long_tokens(self) -> np.ndarray:
        """Ids of the tokens that start a word with LONG_LETTERS lower-case letters or more
        and are a word of the plays or its beginning (" pardon", " vassals", " idolat"
        of "idolatry"; not " Hamlet" or " Venice", whose capital begins a name, nor
        "ment", nor another language's " aandacht"). The plays' words are read in lower
        case, so a name's lower-case spelling (" hamlet", " bianca"), which the model all
        but never draws, is in."""
        if self._long is None:
            self._scan_vocabulary()
        assert self._long is not None
        return self._long

    def logit_bias(self, sampling: Sampling) -> dict[int, float]:
        """The fixed bias of a draw: the tilt and `long_words` (added where both touch a
        token), then the ban (which wins); each mix made once and kept, shared and never
        written to, like the ban's own dict without either."""
        banned = self.banned_tokens(sampling.banned) if sampling.banned else {}
        if not sampling.tilted and not sampling.long_words:
            return banned
        key = (sampling.tilted, sampling.long_words, sampling.banned)
        if key not in self._biases:
            bias = dict(self.tilt_tokens(sampling.tilted)) if sampling.tilted else {}
            for i in self.long_tokens().tolist() if sampling.long_words else ():
                bias[i] = bias.get(i, 0.0) + sampling.long_words
            self._biases[key] = {**bias, **banned}
        return self._biases[key]

    def _boosts(self, sampling: Sampling) -> list[Boost]:
        """(word, its spellings' tokens, the first tokens a boost may raise, the boost) per
        boosted or own word that is not banned, boosted words first. A first token is
        raised when it is the whole word or a stem of three letters or more (" Pol" of
        " Polonius"), never a shorter piece."""
        banned = {w.lower() for w in sampling.banned}
        wanted: dict[str, float] = {}
        for words, value in (
            (sampling.boosted, sampling.boost),
            (sampling.own_words, sampling.own_boost),
        ):
            for word in words if value else ():
                if word.lower() not in banned:
                    wanted.setdefault(word, value)
        found = []
        for word, value in wanted.items():
            spellings = self.spellings(word)
            found.append((word.lower(), spellings, self._starts(spellings, 3), value))
        return found

    def breaking_tokens(self) -> np.ndarray:
        """Ids of the tokens that end a speech: end of text, and every token whose text
        holds a line break."""
        if self._breaks is None:
            self._scan_vocabulary()
        assert self._breaks is not None
        return self._breaks

    def comma_tokens(self) -> np.ndarray:
        """Ids of the tokens whose text is commas only (",", " ,"), with or without spaces
        around them."""
        if self._commas is None:
            self._scan_vocabulary()
        assert self._commas is not None
        return self._commas

    def _scan_vocabulary(self) -> None:
        """`breaking_tokens`, `comma_tokens` and `long_tokens` in one pass over the
        vocabulary (262k tokens on Gemma: about 2.5 s a pass)."""
        llm = self._llm
        stems = long_stems()
        breaks, commas, long = [llm.token_eos()], [], []
        for i in range(llm.n_vocab()):
            text = llm.detokenize([i], special=True)
            bare = text.strip(b" ")
            if b"\n" in text:
                breaks.append(i)
            elif bare and set(bare) == {ord(",")}:
                commas.append(i)
            elif _LONG.fullmatch(text) and text[1:].decode() in stems:
                long.append(i)
        self._breaks = np.array(sorted(set(breaks)), dtype=np.intp)
        self._commas = np.array(commas, dtype=np.intp)
        self._long = np.array(long, dtype=np.intp)

    def _processor(self, prompt: str, sampling: Sampling, boosts: Sequence[Boost] = ()) -> Callable:
        """One logits processor for the bias, boosted words, `min_tokens` and `known_only`
        (agents/known_words.py, applied last): llama-cpp-python drops both when it is
        given a processor and a logit_bias together (it assigns the None of
        `list.extend`), so the bias is applied here too.

        A boosted word gets its boost on its first token until it has been said once; once
        a word of several tokens has begun, its next token gets the boost too (" Pol" ->
        "on" -> "ius"), so the word is finished rather than left a stem. `boosts`: what
        `_boosts` made of the sampling's boosted words."""
        start = len(self._llm.tokenize(prompt.encode("utf-8"), special=True))  # as llama.cpp
        breaks = self.breaking_tokens()
        bias = self.logit_bias(sampling)
        ids = np.fromiter(bias, dtype=np.intp, count=len(bias))
        values = np.fromiter(bias.values(), dtype=np.float32, count=len(bias))
        said: set[str] = set()
        spare = self._spared(sampling)
        known = self._known_words(sampling.page_words) if sampling.known_only else None
        vocabulary = self.word_pieces() if known is not None else None
        opened: str | None = open_word(prompt)  # the word the speech goes on with
        if known is not None and opened is not None and not known.open(opened):
            opened = None  # not one it may end as known: unchecked to its end
        checked = 0  # the made tokens `opened` has taken in

        def process(input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
            made = tuple(input_ids[start:])
            if spare is not None:
                unpenalise(scores, made, spare, sampling, self._llm.last_n_tokens_size)
            for word, spellings, firsts, value in boosts:
                if word in said:
                    continue
                if any(made[-len(t) :] == t for t in spellings if len(made) >= len(t)):
                    said.add(word)
                    continue
                lift = set(firsts)
                for toks in spellings:
                    for k in range(min(len(toks) - 1, len(made)), 0, -1):
                        if made[-k:] == toks[:k]:
                            lift.add(toks[k])
                            break
                for i in lift:
                    scores[i] += value
            scores[ids] += values
            if len(made) < sampling.min_tokens:
                scores[breaks] = -np.inf
            if known is None or vocabulary is None:
                return scores
            nonlocal opened, checked
            for token in made[checked:]:
                opened = after(opened, vocabulary.piece(int(token)))
                if opened is not None and not known.open(opened):
                    opened = None  # a word the mask let go (`keep_known`): unchecked to its end
            checked = len(made)
            view = penalised(scores, made, sampling, self._llm.last_n_tokens_size)
            top_p, top_k = sampling.top_p, sampling.top_k
            return keep_known(scores, opened, known, vocabulary, top_p, top_k, view)

        return process

    def word_pieces(self) -> Vocabulary:
        """The vocabulary as the known-word checks read it (agents/known_words.py), made
        on first use (about 2 s on Gemma's 262k tokens)."""
        if self._vocabulary is None:
            detokenize = self._llm.detokenize
            texts = [detokenize([i]).decode("utf-8", "ignore") for i in range(self._llm.n_vocab())]
            self._vocabulary = Vocabulary(texts)
        return self._vocabulary

    def _known_words(self, page: frozenset[str]) -> KnownWords:
        """The known-word checks of a page's words (the last few pages' are kept, so a
        turn's candidates share their caches)."""
        known = self._known.get(page)
        if known is None:
            if len(self._known) >= 4:
                self._known.pop(next(iter(self._known)))
            known = self._known[page] = KnownWords(page)
        return known

    def _spared(self, sampling: Sampling) -> np.ndarray | None:
        """The tokens the penalties must leave alone (commas, `spared_words`), or None."""
        any_penalty = sampling.repeat_penalty != 1.0 or sampling.presence_penalty != 0.0
        if not any_penalty or not (sampling.spare_commas or sampling.spared_words):
            return None
        commas = self.comma_tokens() if sampling.spare_commas else np.array([], dtype=np.intp)
        if not sampling.spared_words:
            return commas
        return np.union1d(commas, self.spared_tokens(sampling.spared_words))

    def _kwargs(self, sampling: Sampling, prompt: str = "") -> dict:
        from llama_cpp import LogitsProcessorList

        kwargs = {
            "max_tokens": sampling.max_tokens,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "top_k": sampling.top_k,
            "min_p": sampling.min_p,
            "repeat_penalty": sampling.repeat_penalty,
            "presence_penalty": sampling.presence_penalty,
            "logit_bias": self.logit_bias(sampling) or None,
            "stop": list(sampling.stop) or None,
            "seed": sampling.seed,
        }
        # "No line break before N tokens", finishing boosted words and sparing commas and
        # small words from the penalties need a processor; so does the long words' bias,
        # thousands of tokens that llama-cpp-python would add one by one at every step.
        boosts = self._boosts(sampling)
        if (
            sampling.min_tokens
            or sampling.long_words
            or boosts
            or sampling.known_only
            or self._spared(sampling) is not None
        ):
            processor = self._processor(prompt, sampling, boosts)
            kwargs["logits_processor"] = LogitsProcessorList([processor])
            kwargs["logit_bias"] = None
        if sampling.known_only:  # its processor cuts to the known tokens' nucleus
            kwargs["top_p"] = 1.0
        return kwargs

    def stream(self, prompt: str, sampling: Sampling) -> Iterator[str]:
        with self._lock:
            self._use_adapter(sampling.adapter)
            self._llm.continues = sampling.continues
            chunks = self._llm.create_completion(
                prompt, stream=True, **self._kwargs(sampling, prompt)
            )
            for chunk in cast(Iterator[dict[str, Any]], chunks):
                text = chunk["choices"][0]["text"]
                if text:
                    yield text

    def generate(self, prompt: str, sampling: Sampling) -> Completion:
        with self._lock:
            self._use_adapter(sampling.adapter)
            self._llm.continues = sampling.continues
            out = cast(
                dict[str, Any],
                self._llm.create_completion(prompt, **self._kwargs(sampling, prompt)),
            )
        choice = out["choices"][0]
        return Completion(
            text=choice["text"],
            tokens=int(out["usage"]["completion_tokens"]),
            finish_reason=choice.get("finish_reason") or "stop",
        )

    @property
    def llama(self):  # the underlying llama_cpp.Llama, for benchmarks
        return self._llm
