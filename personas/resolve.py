"""Resolve speech headings ("Ham.", "1 Clown.") and stage-direction names to characters."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from dramatis.personas.headings import display_name, name_tokens, singular, split_ordinal
from dramatis.personas.model import Character

GROUP_WORDS = {"all": "All", "both": "Both", "omnes": "All", "all together": "All"}
# Capitalised words in stage directions that are not people.
_NOT_PEOPLE = {
    "enter",
    "re-enter",
    "reenter",
    "exit",
    "exeunt",
    "manet",
    "manent",
    "flourish",
    "alarum",
    "alarums",
    "sennet",
    "trumpets",
    "trumpet",
    "hautboys",
    "music",
    "within",
    "aside",
    "they",
    "he",
    "she",
    "the",
    "a",
    "an",
    "and",
    "with",
    "to",
    "dies",
    "thunder",
    "lightning",
    "excursions",
    "retreat",
    "drum",
    "drums",
    "colours",
    "afar",
    "off",
    "above",
    "below",
    "sings",
    "song",
    "it",
    "his",
    "her",
    "kneels",
    "reads",
    "reading",
    "act",
    "scene",
    "severally",
    "several",
    "others",
    "other",
    "all",
    "both",
    "but",
    "then",
    "while",
}
_TITLE_WORDS = {
    "king",
    "queen",
    "lord",
    "lady",
    "duke",
    "duchess",
    "prince",
    "princess",
    "sir",
    "earl",
    "of",
    "the",
    "and",
    "de",
    "young",
    "old",
    "first",
    "second",
    "third",
    "cardinal",
    "bishop",
    "count",
    "countess",
    "mistress",
    "master",
    "saint",
    "friar",
    "marquess",
    "doctor",
}


@dataclass(frozen=True)
class Resolution:
    """How a heading resolved: display name, group members (if named), and whether known."""

    speaker: str
    members: tuple[str, ...]
    resolved: bool
    group: bool = False


def _match_score(heading: list[str], name: list[str]) -> int:
    """Score how well heading tokens abbreviate name tokens (0: no match).

    _match_score(["ham"], ["hamlet"]) -> 80
    _match_score(["france"], ["king", "of", "france"]) -> 70
    """
    if not heading or len(heading) > len(name):
        return 0
    if heading == name:
        return 100
    best = 0
    for start in range(len(name) - len(heading) + 1):
        run = name[start : start + len(heading)]
        if all(r.startswith(h) for h, r in zip(heading, run, strict=True)):
            exact = heading == run
            score = (95 if exact else 80) if start == 0 else (70 if exact else 60)
            best = max(best, score)
    return best


def _similar(a: str, b: str) -> bool:
    """Whether two short spellings differ by about one letter.

    _similar("glou", "glos") -> True; _similar("glou", "gold") -> False
    """
    return difflib.SequenceMatcher(None, a, b).ratio() >= 0.75


class Resolver:
    """Maps headings and direction text to canonical names for one play."""

    def __init__(self, characters: Iterable[Character], roles: Iterable[str]):
        self.characters = list(characters)
        self.roles = {r for r in roles if len(r) >= 3 and r not in _NOT_PEOPLE}
        self._forms = [
            (c.name, [name_tokens(c.name)] + [name_tokens(a) for a in c.aliases])
            for c in self.characters
        ]
        self._mention = self._mention_pattern()

    def _mention_pattern(self) -> re.Pattern[str] | None:
        """One regex matching any way a stage direction names a listed character."""
        phrases: dict[str, str | None] = {}
        for c in self.characters:
            for form in (c.name, *c.aliases):
                phrases.setdefault(form.lower(), c.name)
            for word in c.name.split():
                low = word.lower()
                if low in _TITLE_WORDS or len(low) < 3:
                    continue
                owner = phrases.get(low, c.name)
                phrases[low] = c.name if owner == c.name else None  # ambiguous word: skip
        self._phrases = {k: v for k, v in phrases.items() if v}
        if not self._phrases:
            return None
        alts = "|".join(re.escape(p) for p in sorted(self._phrases, key=len, reverse=True))
        return re.compile(rf"(?<![\w'])(?:{alts})(?![\w])", re.IGNORECASE)

    def mentions(self, text: str) -> list[str]:
        """Canonical names of listed characters named in a stage direction, in order."""
        if self._mention is None:
            return []
        found = []
        for m in self._mention.finditer(text):
            if m.group(0)[0].isupper():
                found.append(self._phrases[m.group(0).lower()])
        return list(dict.fromkeys(found))

    def character(self, heading: str, on_stage: Iterable[str] = ()) -> str | None:
        """Best listed character for a heading, preferring those on stage; None if no match."""
        tokens = name_tokens(heading)
        stage = set(on_stage)
        best: tuple[int, int, int] | None = None
        found = None
        ties = 0
        for order, (name, forms) in enumerate(self._forms):
            score = _match_score(tokens, forms[0])
            if not score and len(tokens) > 1 and tokens[0] in _TITLE_WORDS:
                score = max(0, _match_score(tokens[1:], forms[0]) - 10)  # "Queen Isabel"
            if any(tokens == alias for alias in forms[1:]):
                score = max(score, 90)  # aliases ("King" for Claudius) match only in full
            if score == 0:
                continue
            key = (score, name in stage, -order)
            ties += score == 95
            if best is None or key > best:
                best, found = key, name
        if best and best[0] == 95 and ties > 1 and len(tokens) == 1 and tokens[0] in _TITLE_WORDS:
            return None  # "Lord." in a play with several lords: a generic role
        return found

    def misspelt(self, heading: str) -> str | None:
        """Listed character whose name starts like a one-word heading spelt otherwise.

        "Glou." finds "Earl of Gloster" (the persons list and headings disagree on spelling).
        """
        tokens = name_tokens(heading)
        if len(tokens) != 1 or len(tokens[0]) < 4:
            return None
        token = tokens[0]
        for name, forms in self._forms:
            for part in forms[0]:
                if part[:3] == token[:3] and _similar(token, part[: len(token)]):
                    return name
        return None

    def role(self, heading: str) -> str | None:
        """Display name for a generic role heading ("Mess." -> "Messenger"), or None."""
        words = heading.strip().rstrip(".").split()
        if not words:
            return None
        last = words[-1].strip(".").lower()
        if len(last) < 3 and last not in self.roles:
            return None
        options = sorted(r for r in self.roles if r.startswith(last) or singular(last) == r)
        if not options:
            return None
        expansion = last if last in self.roles or singular(last) in self.roles else options[0]
        head = [w if w.endswith(".") else display_name(w) for w in words[:-1]]
        return " ".join([*head, display_name(expansion)])

    def resolve(self, heading: str, on_stage: Iterable[str] = ()) -> Resolution:
        """Resolve a speech heading to a display name, members and resolved flag."""
        text = re.sub(r"\s+", " ", heading.strip().rstrip(".:-").strip())
        low = text.lower()
        if low in GROUP_WORDS:
            return Resolution(GROUP_WORDS[low], (), True, group=True)
        parts = [p for p in re.split(r"\s*(?:,|&|\band\b)\s*", text, flags=re.IGNORECASE) if p]
        if len(parts) > 1:
            single = [self.resolve(p, on_stage) for p in parts]
            names = tuple(r.speaker for r in single)
            ok = all(r.resolved for r in single)
            return Resolution(" and ".join(names), names, ok, group=True)
        if name := self.character(text, on_stage):
            return Resolution(name, (name,), True)
        if ordinal := split_ordinal(text):
            word, base = ordinal
            role = self.role(base) or (self.character(base, on_stage) and display_name(base))
            name = f"{word} {role or display_name(base)}"
            return Resolution(name, (name,), bool(role))
        if role := self.role(text):
            return Resolution(role, (role,), True)
        if name := self.misspelt(text):
            return Resolution(name, (name,), True)
        name = display_name(text)
        return Resolution(name, (name,), False)
