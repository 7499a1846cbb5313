"""Resolve speech headings ("Ham.", "1 Clown.") and stage-direction names to characters."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import dramatis.personas.edition as edition
from dramatis.personas.headings import display_name, name_tokens, singular, split_ordinal
from dramatis.personas.model import Character
from dramatis.personas.shared_roles import WEAK_EVIDENCE, SharedRoles

GROUP_WORDS = {"all": "All", "both": "Both", "omnes": "All", "all together": "All"}
_ETC = re.compile(r",?\s*&\s*c\b\.?", re.IGNORECASE)  # "&c.", et cetera, in a group heading

# How well a heading named the character it resolved to (the scores of _match_score/_score).
RULE_BY_SCORE = {
    100: "full name",
    96: "title the identity table gives",
    95: "first words of the name",
    90: "alias",
    85: "title and first words of the name",
    80: "abbreviation",
    75: "title and abbreviation",
    70: "a later word of the name",
    60: "abbreviated later word of the name",
    50: "title and a later word",
}
_REIGN_TITLES = frozenset({"king", "queen", "prince", "princess"})
# Rules that map a heading without the text saying so: `dramatis play check` flags them.
WEAK_RULES = frozenset(
    {
        "title word alone",  # "PRINCE." for Prince John while Hal's description says Prince
        "spelling variant",
        "role guessed from its first letters",
        *(f"shared: {e}" for e in WEAK_EVIDENCE),
    }
)


@dataclass(frozen=True)
class Resolution:
    """How a heading resolved: display name, group members (if named), and whether known."""

    speaker: str
    members: tuple[str, ...]
    resolved: bool
    group: bool = False
    rule: str = ""  # why the heading maps there ("abbreviation", "shared: on stage", ...)


def _match_score(heading: list[str], name: list[str]) -> int:
    """Score how well heading tokens abbreviate name tokens (0: no match).

    _match_score(["ham"], ["hamlet"]) -> 80
    _match_score(["france"], ["king", "of", "france"]) -> 70
    """
    if not heading or len(heading) > len(name):
        return 0
    epithet = len(name) == len(heading) + 2 and name[-2] == "the"
    if heading == name or (epithet and name[: len(heading)] == heading):
        return 100  # "Cinna" names "Cinna the Poet" as fully as the other Cinna
    if epithet and heading[0] != name[0]:
        return 0  # "POET." is another poet, not Cinna the Poet
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
    return difflib.SequenceMatcher(None, a, b).ratio() >= edition.MISSPELT_SIMILARITY


class Resolver:
    """Maps headings and direction text to canonical names for one play."""

    def __init__(
        self,
        characters: Iterable[Character],
        roles: Iterable[str],
        listed_roles: Iterable[str] = (),
    ):
        self.characters = list(characters)
        self.roles = {r for r in roles if len(r) >= edition.ROLE_MIN_LEN}
        self.roles -= edition.NOT_PEOPLE
        self.listed_roles = set(listed_roles) & self.roles  # from the persons list's groups
        # aliases the identity table gives (personas/data/identities.json), as tokens
        self._given = {c.name: [name_tokens(a) for a in c.given] for c in self.characters}
        self._forms = [
            (c.name, [name_tokens(c.name)] + [name_tokens(a) for a in c.aliases])
            for c in self.characters
        ]
        self._mention = self._mention_pattern()
        self.shared = SharedRoles()
        self.last_rule = ""  # how the last character() call chose (read by resolve)

    def claim(self, headings: Iterable[str]) -> None:
        """Note the characters that some heading names alone (before reading the play)."""
        for heading in headings:
            names = self._choices(name_tokens(heading))[1]
            if len(names) == 1:
                self.shared.claimed.add(names[0])

    def _mention_pattern(self) -> re.Pattern[str] | None:
        """One regex matching any way a stage direction names a listed character."""
        phrases: dict[str, str | None] = {}
        for c in self.characters:
            for form in (c.name, *c.aliases):
                phrases.setdefault(form.lower(), c.name)
            for word in c.name.split():
                low = word.lower()
                if low in edition.TITLE_WORDS or len(low) < edition.ROLE_MIN_LEN:
                    continue
                owner = phrases.get(low, c.name)
                phrases[low] = c.name if owner == c.name else None  # ambiguous word: skip
        self._phrases = {k: v for k, v in phrases.items() if v}
        if not self._phrases:
            return None
        longest = sorted(self._phrases, key=len, reverse=True)
        alts = "|".join(re.escape(p).replace(r"\ ", r",?\s+") for p in longest)
        return re.compile(rf"(?<![\w'])(?:{alts})(?![\w])", re.IGNORECASE)

    def mentions(self, text: str) -> list[str]:
        """Canonical names of listed characters named in a stage direction, in order."""
        if self._mention is None:
            return []
        found = []
        for m in self._mention.finditer(text):
            if m.group(0)[0].isupper():
                found.append(self._phrases[re.sub(r",?\s+", " ", m.group(0).lower())])
        return list(dict.fromkeys(found))

    def _score(
        self, tokens: list[str], forms: list[list[str]], given: Sequence[list[str]] = ()
    ) -> int:
        """How well heading tokens name one character (its name, or an alias in full)."""
        score = _match_score(tokens, forms[0])
        title = (
            bool(tokens) and tokens[0] in edition.TITLE_WORDS and tokens[0] not in edition.ORDINALS
        )
        if not score and len(tokens) > 1 and title:
            score = max(0, _match_score(tokens[1:], forms[0]) - 10)  # "Queen Isabel"
        if any(tokens == alias for alias in forms[1:]):
            score = max(score, 90)  # aliases ("King" for Claudius) match only in full
        if tokens in given:
            # an alias the identity table gives names them as fully as the name, and its
            # bare title ("Prince" for Hal) outranks a name that merely starts with it
            # (Prince John of Lancaster)
            score = max(score, (96 if len(tokens) == 1 else 90) if title else 100)
        for alias in forms[1:]:
            if alias[1:2] == ["of"] or (
                len(alias) > 1 and len(tokens) > 1 and alias[0] in _REIGN_TITLES
            ):
                # a peerage or a later title ("Duke of York", "King Richard III") is a name
                score = max(score, _match_score(tokens, alias))
        return score

    def _choices(self, tokens: list[str]) -> tuple[int, list[str]]:
        """The best score and every character reaching it, in persons-list order."""
        scores = [
            (self._score(tokens, forms, self._given.get(name, [])), name)
            for name, forms in self._forms
        ]
        best = max((s for s, _ in scores), default=0)
        return best, [name for s, name in scores if s and s == best]

    def character(self, heading: str, on_stage: Iterable[str] = ()) -> str | None:
        """Best listed character for a heading, by context when several share it; else None."""
        tokens = name_tokens(heading)
        score, names = self._choices(tokens)
        self.last_rule = RULE_BY_SCORE.get(score, "abbreviation")
        if not names:
            return None
        stage = set(on_stage)
        word = tokens[0] if len(tokens) == 1 else ""
        generic = score == 95 and word in edition.TITLE_WORDS
        if generic:
            self.last_rule = (
                "title word alone"
                if self._held_by_others(word, names)
                else ("the only one with this title")
            )
        if len(names) > 1 and generic and not stage.intersection(names):
            return None  # "Lord." in a play with several lords: a generic role
        qualifiers = {n: [t for t in name_tokens(n) if t not in tokens] for n in names}
        plain = [n for n in names if not edition.AGE_WORDS.intersection(qualifiers[n])]
        names = plain or names  # "MARCIUS." is Caius Marcius, not Young Marcius
        if len(names) == 1:
            return names[0]
        chosen = self.shared.pick(names, qualifiers, stage, title_only=generic)
        self.last_rule = f"shared: {self.shared.evidence}"
        return chosen

    def _held_by_others(self, title: str, names: list[str]) -> bool:
        """Whether a listed character outside `names` also has the title word in a form."""
        return any(
            any(title in form for form in forms) for name, forms in self._forms if name not in names
        )

    def misspelt(self, heading: str) -> str | None:
        """Listed character whose name starts like a one-word heading spelt otherwise.

        "Glou." finds "Earl of Gloster" (the persons list and headings disagree on spelling).
        """
        tokens = name_tokens(heading)
        if len(tokens) != 1 or len(tokens[0]) < edition.MISSPELT_MIN_LEN:
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
        exact = last in self.roles or singular(last) in self.roles
        expansion = last if exact else options[0]
        self.last_rule = (
            "role word" if exact or len(options) == 1 else ("role guessed from its first letters")
        )
        head = [self._spell_out(w) for w in words[:-1]]
        small = {"of", "the", "and", "to", "in"}  # "GHOST OF RIVERS." -> "Ghost of Rivers"
        head = [w.lower() if i and w.lower() in small else w for i, w in enumerate(head)]
        return " ".join([*head, display_name(expansion)])

    def _spell_out(self, word: str) -> str:
        """An abbreviated word of a role heading, spelt out when one listed role fits.

        "P." in "P. Queen." -> "Player" when the persons list has "Players."
        """
        if not word.endswith("."):
            return display_name(word)
        stem = word.rstrip(".").lower()
        fits = [r for r in self.listed_roles if r.startswith(stem)]
        return display_name(fits[0]) if len(fits) == 1 else word

    def _spelt_out(self, heading: str) -> bool:
        """Whether a heading is a whole word (not "Serv.") that is no role of the list."""
        tokens = name_tokens(heading)
        if len(tokens) != 1 or len(tokens[0]) < 5:
            return False
        word = singular(tokens[0])
        return word == tokens[0] and word not in self.listed_roles | edition.TITLE_WORDS

    def _both_of(self, low: str, on_stage: Iterable[str]) -> tuple[str, ...]:
        """The two on stage a "BOTH MURDERERS." heading means: the only two whose name or
        description has the word ("First Murderer", "Tribune of the People"); else ()."""
        words = low.split()
        if len(words) != 2 or words[0] != "both":
            return ()
        kind = singular(words[1])
        about = {c.name: c.description for c in self.characters}
        pair = tuple(
            n
            for n in dict.fromkeys(on_stage)
            if kind in name_tokens(n) or kind in re.findall(r"[a-z]+", about.get(n, "").lower())
        )
        return pair if len(pair) == 2 else ()

    def _dotted(self, text: str, on_stage: Iterable[str]) -> Resolution | None:
        """Two speakers written as one heading: "VARRO. CLAUDIUS." -> Varro and Claudius."""
        parts = [p for p in re.split(r"\.\s+", text) if p]
        if len(parts) < 2 or not text.isupper():
            return None
        single = [self.resolve(p, on_stage) for p in parts]
        if not all(r.resolved and not r.group for r in single):
            return None
        names = tuple(r.speaker for r in single)
        return Resolution(" and ".join(names), names, True, group=True, rule="two names")

    def resolve(self, heading: str, on_stage: Iterable[str] = ()) -> Resolution:
        """Resolve a speech heading to a display name, members, resolved flag and rule."""
        text = re.sub(r"\s+", " ", heading.strip().rstrip(".:-").strip())
        low = text.lower()
        if low in GROUP_WORDS:
            return Resolution(GROUP_WORDS[low], (), True, group=True, rule="group word")
        if pair := self._both_of(low, on_stage):
            return Resolution("Both", pair, True, group=True, rule="both of a kind on stage")
        # "FALS, GADS., &C.": the named ones "and the rest" (et cetera is nobody's name)
        named, etc = _ETC.subn("", text)
        parts = [p for p in re.split(r"\s*(?:,|&|\band\b)\s*", named, flags=re.IGNORECASE) if p]
        if len(parts) > 1 or (etc and parts):
            single = [self.resolve(p, on_stage) for p in parts]
            names = tuple(r.speaker for r in single)
            ok = all(r.resolved for r in single)
            rules = [r.rule for r in single]
            rule = next((r for r in rules if r in WEAK_RULES), "group of names")
            label = " and ".join(names) + (" and others" if etc else "")
            return Resolution(label, names, ok, group=True, rule=rule)
        if name := self.character(text, on_stage):
            return Resolution(name, (name,), True, rule=self.last_rule)
        if together := self._dotted(text, on_stage):
            return together
        if ordinal := split_ordinal(text):
            word, base = ordinal
            role = self.role(base) or (self.character(base, on_stage) and display_name(base))
            name = f"{word} {role or display_name(base)}"
            return Resolution(name, (name,), bool(role), rule="ordinal and role")
        if (name := self.misspelt(text)) and self._spelt_out(text):
            return Resolution(name, (name,), True, rule="name word spelt otherwise")
        if role := self.role(text):
            return Resolution(role, (role,), True, rule=self.last_rule)
        if name := self.misspelt(text):
            return Resolution(name, (name,), True, rule="spelling variant")
        name = display_name(text)
        return Resolution(name, (name,), False, rule="unresolved")
