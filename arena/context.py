"""What the metrics know about a run's cast: personas, their plays, real speeches, names.

Built once per cast and cached in `Contexts`, so scoring many runs of one cast parses
the plays and trains the attribution judge once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dramatis.personas import Persona, Play, Speech, find_persona, load_play

if TYPE_CHECKING:
    from dramatis.arena.attribution import Judge


@dataclass
class Context:
    """The cast's personas and plays, and a judge trained on their real lines."""

    cast: tuple[str, ...]
    personas: dict[str, Persona]
    plays: dict[str, Play]  # play key -> parsed play
    cache: dict = field(default_factory=dict)  # per-cast indexes the metrics build once
    _judge: Judge | None = field(default=None, repr=False)
    _second: Judge | None = field(default=None, repr=False)

    @classmethod
    def build(cls, cast: list[str] | tuple[str, ...]) -> Context:
        personas = {}
        for name in cast:
            persona = find_persona(name)
            personas[persona.name] = persona
        plays = {p.play: load_play(p.play) for p in personas.values()}
        return cls(tuple(personas), personas, plays)

    def play_of(self, name: str) -> Play:
        return self.plays[self.personas[name].play]

    def real_speeches(self, name: str) -> list[Speech]:
        """Every speech `name` speaks in their play, in order."""
        return [s for s in self.play_of(name).speeches() if s.speaker == name]

    def names(self) -> list[str]:
        """Every character name of the cast's plays, plus the cast."""
        found = set(self.cast)
        for play in self.plays.values():
            found |= {s.speaker for s in play.speeches()} | set(play.characters)
        return sorted(found)

    def proper_names(self) -> list[str]:
        """Names that are never an ordinary word in the plays ("Horatio", not "King").

        A name counts when none of its words appears in lower case in any speech.
        """
        if "proper_names" in self.cache:
            return self.cache["proper_names"]
        lower: set[str] = set()
        for play in self.plays.values():
            for speech in play.speeches():
                lower |= set(re.findall(r"\b[a-z][a-z']+\b", speech.text))
        keep = []
        for name in self.names():
            parts = [w for w in name.split() if w[:1].isupper()]
            if parts and all(w.lower() not in lower and len(w) > 2 for w in parts):
                keep.append(name)
        self.cache["proper_names"] = keep
        return keep

    @property
    def judge(self) -> Judge:
        """The speaker-attribution judge for this cast (trained on first use)."""
        if self._judge is None:
            from dramatis.arena.attribution import train_judge

            self._judge = train_judge(self)
        return self._judge

    @property
    def second_judge(self) -> Judge:
        """A second judge of the other feature family than `judge` (word n-grams when the
        first reads characters, and the reverse), so a selection tuned to one judge's
        features shows up as a gap between the two."""
        if self._second is None:
            from dramatis.arena.attribution import METHODS, train_judge

            others = {k: v for k, v in METHODS.items() if k != self.judge.method}
            self._second = train_judge(self, others)
        return self._second


class Contexts:
    """A cache of contexts by cast, passed down to whatever scores many runs."""

    def __init__(self) -> None:
        self._by_cast: dict[tuple[str, ...], Context] = {}

    def get(self, cast: list[str] | tuple[str, ...]) -> Context:
        key = tuple(sorted(cast))
        if key not in self._by_cast:
            self._by_cast[key] = Context.build(list(cast))
        return self._by_cast[key]
