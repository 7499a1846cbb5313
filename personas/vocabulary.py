"""The plays' words: how speech is cut into word tokens, and every token the plays use.

`tokens` is the one tokeniser of the voice metrics (arena/canon.py, diction, modern words)
and of the agents' word checks: lower-case runs of letters and digits with inner and edge
apostrophes kept, so the plays' elisions stay whole ("'tis", "o'er", "th'", "call'd").

`plays_words()` is the vocabulary of the 37 plays' speeches, with every word of a
character's name (persons lists and speaker headings) and each token's bare form. Parsing
the plays takes about 6 s, so it ships built (data/plays_words.txt, one token a line);
`python -m dramatis.personas.vocabulary` (make plays-words) writes it again from the
installed texts, and a test checks that the two agree.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

WORDS_FILE = Path(__file__).parent / "data" / "plays_words.txt"

_TOKEN = re.compile(r"'?[a-z0-9]+(?:'[a-z0-9]+)*'?")


def normal(text: str) -> str:
    """`text` as the word checks read it: lower case, curly apostrophes straight."""
    return text.lower().replace("\u2019", "'").replace("\u2018", "'")


def tokens(text: str) -> list[str]:
    """Lower-case word tokens, apostrophes of elisions kept (curly ones made straight).

    tokens("'Tis ne'er so; th' hour's come!") -> ["'tis", "ne'er", "so", "th'", "hour's", "come"]
    """
    return _TOKEN.findall(normal(text))


def bare(token: str) -> str:
    """A token without its edge apostrophes (quotation marks or elisions).

    bare("'tis") -> "tis"; bare("th'") -> "th"; bare("o'er") -> "o'er"
    """
    return token.strip("'")


def readings(token: str) -> tuple[str, str, str]:
    """The ways a token may be known: as written, bare, and bare without a possessive.

    readings("'macbeth's") -> ("'macbeth's", "macbeth's", "macbeth")
    """
    plain = bare(token)
    return token, plain, plain.removesuffix("'s")


def name_words(key: str) -> set[str]:
    """The bare words of every name in a play: persons list, aliases, speaker headings."""
    from dramatis.personas.corpus import load_play

    play = load_play(key)
    found: set[str] = set()
    for character in play.characters.values():
        for name in (character.name, *character.aliases):
            found |= {bare(t) for t in tokens(name)}
    for speech in play.speeches():
        found |= {bare(t) for t in tokens(speech.speaker)}
    return found


def proper_names(keys: Iterable[str], also: Iterable[str] = ()) -> list[str]:
    """The names in the plays `keys` (persons lists and speaker headings) and in `also`
    that are never an ordinary word in those plays ("Horatio", not "King"): none of a
    name's words appears in lower case in any of their speeches. Sorted.
    """
    from dramatis.personas.corpus import load_play

    plays = [load_play(key) for key in dict.fromkeys(keys)]
    lower: set[str] = set()
    names: set[str] = set(also)
    for play in plays:
        names |= set(play.characters)
        for speech in play.speeches():
            lower |= set(re.findall(r"\b[a-z][a-z']+\b", speech.text))
            names.add(speech.speaker)
    keep = []
    for name in sorted(names):
        parts = [w for w in name.split() if w[:1].isupper()]
        if parts and all(w.lower() not in lower and len(w) > 2 for w in parts):
            keep.append(name)
    return keep


def mask_names(text: str, names: Sequence[str], token: str = "NAME") -> str:
    """Replace every whole-word occurrence of each name (and of each capitalised word of
    a multi-word name, so not the "and" of "Cornelius and Voltimand") by `token`,
    case-insensitive.

    mask_names("Good Horatio, come.", ["Horatio"]) -> "Good NAME, come."
    """
    words = {p for n in names for p in [n, *(w for w in n.split() if w[:1].isupper())]}
    parts = sorted({p for p in words if len(p) > 2}, key=len, reverse=True)
    if not parts:
        return text
    pattern = re.compile(r"\b(" + "|".join(re.escape(p) for p in parts) + r")\b", re.IGNORECASE)
    return pattern.sub(token, text)


def build_words() -> frozenset[str]:
    """Every token of the plays' speeches, its bare form, and every word of a name,
    parsed from the installed texts (about 6 s)."""
    from dramatis.personas.corpus import list_plays, load_play

    found: set[str] = set()
    for key in list_plays():
        for speech in load_play(key).speeches():
            for token in tokens(speech.text):
                found.update((token, bare(token)))
        found |= name_words(key)
    found.discard("")
    return frozenset(found)


@functools.lru_cache(maxsize=1)
def plays_words() -> frozenset[str]:
    """The shipped vocabulary of the plays (data/plays_words.txt), read once."""
    return frozenset(WORDS_FILE.read_text(encoding="utf-8").split())


def page_words(text: str) -> frozenset[str]:
    """Every reading of every token of `text` (a page's own words, for `unknown`'s `also`).

    page_words("Zed's hat") -> {"zed's", "zed", "hat"}
    """
    return frozenset(form for t in tokens(text) for form in readings(t))


def unknown(text: str, also: Collection[str] = ()) -> list[str]:
    """The tokens of `text` that no play uses and that are not in `also` (a scene's own
    words: lower-case bare tokens of its names, setting and transcript), each as written,
    bare, or without a possessive "'s" (arena/canon.py `Canon.knows` reads them so).

    unknown("Okay, 'tis Macbeth's phone, Zed.", also={"zed"}) -> ["okay", "phone"]
    """
    words = plays_words()
    return [t for t in tokens(text) if not any(r in words or r in also for r in readings(t))]


def main() -> None:
    words = build_words()
    WORDS_FILE.write_text("".join(f"{w}\n" for w in sorted(words)), encoding="utf-8")
    print(f"{len(words)} words -> {WORDS_FILE}", file=sys.stderr)


if __name__ == "__main__":
    main()
