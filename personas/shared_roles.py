"""Headings that several listed characters share ("DOCTOR.", "BRUTUS."): pick one by context.

The order of evidence: a character some other heading already names alone is not meant
("DECIUS." claims Decius Brutus, so "BRUTUS." is Marcus; not for a bare title such as
"DUCHESS."); then who has entered the scene;
then a qualifier the scene setting echoes ("English Doctor" in "England. Before the King's
Palace."); then the character chosen in the nearest scene at the same place, and never the
one chosen at another place while another is free; the persons-list order comes last.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Evidence that picks a shared heading's owner without the text naming them: weak rules.
WEAK_EVIDENCE = ("the choice of a scene at this place", "persons-list order", "first on stage")
_SAME_PLACE = re.compile(r"^(?:the same|another part|the same place)\b", re.IGNORECASE)


def place_of(setting: str, previous: str) -> str:
    """The place a scene setting names: its first phrase, or the previous place for "The same".

    place_of("Dunsinane. A Room in the Castle.", "") -> "dunsinane"
    place_of("The same. A street.", "rome") -> "rome"
    """
    text = setting.strip()
    if not text or _SAME_PLACE.match(text):
        return previous
    return re.split(r"[.,;:]", text, maxsplit=1)[0].strip().lower()


def echoes(word: str, setting: str) -> bool:
    """Whether a qualifier word shares its first four letters with a word of the setting.

    echoes("english", "England. Before the King's Palace.") -> True
    echoes("scotch", "Dunsinane. A Room in the Castle.") -> False
    """
    if len(word) < 4:
        return False
    return any(w[:4] == word[:4] for w in re.findall(r"[a-z]+", setting.lower()))


@dataclass
class SharedRoles:
    """What the play has shown so far about who a shared heading means."""

    claimed: set[str] = field(default_factory=set)  # named alone by some heading
    scene: int = 0
    setting: str = ""
    place: str = ""
    history: dict[tuple[str, ...], list[tuple[int, str, str]]] = field(default_factory=dict)
    evidence: str = ""  # what decided the last pick, in words

    def enter_scene(self, index: int, setting: str) -> None:
        """A new scene begins: later picks use its number, setting and place."""
        self.scene, self.setting = index, setting
        self.place = place_of(setting, self.place)

    def pick(
        self,
        names: list[str],
        qualifiers: dict[str, list[str]],
        on_stage: set[str],
        title_only: bool = False,
    ) -> str:
        """One of `names` (persons-list order) for a heading they all match equally.

        A heading that is only a title ("DUCHESS.") means whoever holds it on stage, even
        when another heading names her in full, so claims do not count for it.
        """
        free = [] if title_only else [n for n in names if n not in self.claimed]
        if len(free) == 1:
            self.evidence = "the others have headings of their own"
        names = free if free else names
        chosen = self._by_context(names, qualifiers, on_stage)
        self.history.setdefault(tuple(sorted(names)), []).append((self.scene, self.place, chosen))
        return chosen

    def _by_context(
        self, names: list[str], qualifiers: dict[str, list[str]], on_stage: set[str]
    ) -> str:
        if len(names) == 1:
            return names[0]
        staged = [n for n in names if n in on_stage]
        if staged:
            self.evidence = "on stage" if len(staged) == 1 else WEAK_EVIDENCE[2]
            return staged[0]
        echoed = [n for n in names if any(echoes(q, self.setting) for q in qualifiers[n])]
        if len(echoed) == 1:
            self.evidence = "the scene setting names it"
            return echoed[0]
        return self._by_history(names)

    def _by_history(self, names: list[str]) -> str:
        """The choice of the nearest scene at this place; else one not chosen elsewhere."""
        seen = self.history.get(tuple(sorted(names)), [])
        here = [(abs(self.scene - s), name) for s, place, name in seen if place == self.place]
        if here:
            self.evidence = WEAK_EVIDENCE[0]
            return min(here)[1]
        elsewhere = {name for _, place, name in seen if place != self.place}
        rest = [n for n in names if n not in elsewhere]
        self.evidence = WEAK_EVIDENCE[1]
        return (rest or names)[0]
