"""The canon's own words: every speech of the 37 plays, tokenised once, counted per play.

The voice metrics (diction, modern words) compare generated speech with this. Tokens are
personas/vocabulary.py's (the plays' elisions stay whole: "'tis", "o'er", "th'"). Built
once per process (about as long as parsing the plays) and shared by every cast.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass

from dramatis.personas import list_plays, load_play
from dramatis.personas.vocabulary import bare, name_words, readings, tokens

__all__ = ["Canon", "bare", "canon", "inner_capitals", "tokens"]

_WORD_CASED = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*")


@dataclass(frozen=True)
class Canon:
    """Word counts of the plays' speeches: in all, and per play."""

    counts: Counter[str]  # token -> occurrences in every speech of every play
    plays_of: dict[str, frozenset[str]]  # token -> the plays whose speeches use it
    names: frozenset[str]  # words of every persons-list name and speaker heading
    play_words: dict[str, int]  # play key -> tokens in its speeches
    capitals: Counter[str]  # token -> times written with a capital inside a sentence

    def knows(self, token: str, without: str = "") -> bool:
        """Whether the plays use `token` (or it with its edge apostrophes, or a possessive
        "'s", dropped), or it is a word of a character's name; `without` leaves that
        play's speeches out.

        knows("'tis") -> True; knows("macbeth's") -> True; knows("okay") -> False
        """
        forms = readings(token)
        if self.names.intersection(forms[1:]):
            return True
        for form in forms:
            plays = self.plays_of.get(form)
            if plays and (not without or plays - {without}):
                return True
        return False


def inner_capitals(text: str) -> list[str]:
    """Tokens written with a capital inside a sentence (not a line's or sentence's first).

    inner_capitals("Go, good Horatio. Now\nThou art") -> ["horatio"]
    """
    found = []
    for line in text.splitlines():
        for match in list(_WORD_CASED.finditer(line))[1:]:
            before = line[: match.start()].rstrip()
            if match.group()[0].isupper() and not before.endswith((".", "!", "?", ":")):
                found.append(match.group().lower())
    return found


@functools.lru_cache(maxsize=1)
def canon() -> Canon:
    """The canon of the 37 plays (cached for the process)."""
    counts: Counter[str] = Counter()
    plays_of: dict[str, set[str]] = {}
    names: set[str] = set()
    play_words: dict[str, int] = {}
    capitals: Counter[str] = Counter()
    for key in list_plays():
        here: Counter[str] = Counter()
        for speech in load_play(key).speeches():
            here.update(tokens(speech.text))
            capitals.update(inner_capitals(speech.text))
        for token in list(here):  # the bare form too: "'tis" also answers for "tis"
            if bare(token) != token:
                here[bare(token)] += 0
        counts.update(here)
        for token in here:
            plays_of.setdefault(token, set()).add(key)
        names |= name_words(key)
        play_words[key] = sum(here.values())
    frozen = {t: frozenset(p) for t, p in plays_of.items()}
    return Canon(counts, frozen, frozenset(names), play_words, capitals)
