"""Deaths spoken of before their time: the death half of knowledge-horizon leaks.

A speaker leaks a death when a clause of their turn joins the dead character's name to
a word of death ("Polonius is dead", "Duncan was murdered", "slain Polonius") and, at
the scene's point, that death has not happened yet (its scene is the scene's own or
later), or it has happened but the speaker neither saw it nor was on stage for a speech,
after it, that names the dead (a lenient rule: hearing a name is taken as hearing the
news). Deaths come from the stage directions
(dramatis.memory.deaths); only deaths of the speaker's own play count (another play's
dead are unknown names, which the name check already catches).

Calibration (tests/test_arena_death_leaks.py, docs/arena.md): applied to every real
speech of the 37 plays at its own place (a death of the same scene counts as past) it
flags few speeches; it catches every line of a hand-written leaking set
(tests/data/death_leaks.jsonl) and none of its in-horizon twins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dramatis.memory.deaths import Death, find_deaths
from dramatis.personas import Play

_DEATH = re.compile(
    r"\b(?:dead|died|slain|kill'd|killed|murder'd|murdered|drown'd|drowned|poison'd|"
    r"poisoned|stabb'd|stabbed|buried|corpse|hang'd|hanged|beheaded|smother'd|smothered)\b",
    re.IGNORECASE,
)
_CLAUSE = re.compile(r"[.!?;:]|,\s*(?:and|but|yet|while|whilst|though)\b", re.IGNORECASE)


def speaks_of_death(text: str, name: str) -> bool:
    """speaks_of_death("Alas, Polonius is dead!", "Polonius") -> True;
    speaks_of_death("Polonius, be dead to mirth.", "Polonius") -> True (a clause joins them);
    speaks_of_death("My father is dead, and Polonius sleeps.", "Polonius") -> False"""
    pattern = re.compile(rf"\b{re.escape(name)}\b")
    return any(pattern.search(c) and _DEATH.search(c) for c in _CLAUSE.split(text))


@dataclass(frozen=True)
class DeathIndex:
    """A play's deaths with the position of each death's scene."""

    play: Play
    deaths: list[Death]
    order: dict[str, int]  # scene id -> position in the play

    @classmethod
    def build(cls, play: Play) -> DeathIndex:
        order = {s.id: i for i, s in enumerate(play.scenes())}
        return cls(play, find_deaths(play), order)

    def unknown(self, speaker: str, until: int, same_scene_past: bool) -> list[Death]:
        """Deaths `speaker` cannot know of before speech `until` (see the module doc)."""
        speeches = self.play.speeches()[:until]
        here = self.order[speeches[-1].scene_id] if speeches else -1
        return [
            d for d in self.deaths if not self._known(d, speaker, here, same_scene_past, speeches)
        ]

    def _known(self, d: Death, speaker: str, here: int, same_past: bool, speeches: list) -> bool:
        when = self.order[d.scene]
        if when > here or (when == here and not same_past):
            return False  # still ahead
        return speaker in d.witnesses or self._heard(speaker, d, speeches)

    def _heard(self, speaker: str, death: Death, speeches: list) -> bool:
        after = self.order[death.scene]
        return any(
            speaker in s.on_stage
            and self.order[s.scene_id] >= after
            and re.search(rf"\b{re.escape(death.name)}\b", s.text) is not None
            for s in speeches
        )


def death_leaks(text: str, unknown: list[Death]) -> list[str]:
    """The names among `unknown` deaths that `text` speaks of as dead."""
    return [d.name for d in unknown if speaks_of_death(text, d.name)]


def flagged_real_speeches(play: Play) -> list[tuple[str, list[str], str]]:
    """(speaker, leaked names, text) of the play's own speeches the check flags, each
    judged at its own place in the play: the false positives of the calibration."""
    index = DeathIndex.build(play)
    names = {d.name for d in index.deaths}
    out = []
    for s in play.speeches():
        if not any(speaks_of_death(s.text, n) for n in names):
            continue  # the cheap test first: most speeches name no death
        leaked = death_leaks(s.text, index.unknown(s.speaker, s.index + 1, same_scene_past=True))
        if leaked:
            out.append((s.speaker, leaked, s.text))
    return out
