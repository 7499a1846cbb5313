"""What the metrics know about a run's cast: personas, their plays, real speeches, names.

Built once per cast and cached in `Contexts`, so scoring many runs of one cast parses
the plays and trains the attribution judge once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dramatis.personas import Persona, Play, Speech, find_persona, load_play
from dramatis.personas.vocabulary import proper_names


@dataclass
class Context:
    """The cast's personas and plays, and what the metrics build from their real lines."""

    cast: tuple[str, ...]
    personas: dict[str, Persona]
    plays: dict[str, Play]  # play key -> parsed play
    # per-cast indexes and judges the metrics build once (arena/attribution.py judge_of)
    cache: dict = field(default_factory=dict)

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
        """Names that are never an ordinary word in the plays ("Horatio", not "King"):
        personas/vocabulary.py `proper_names` over the cast's plays and the cast."""
        if "proper_names" not in self.cache:
            self.cache["proper_names"] = proper_names(self.plays, also=self.cast)
        return self.cache["proper_names"]


class Contexts:
    """A cache of contexts by cast, passed down to whatever scores many runs."""

    def __init__(self) -> None:
        self._by_cast: dict[tuple[str, ...], Context] = {}

    def get(self, cast: list[str] | tuple[str, ...]) -> Context:
        key = tuple(sorted(cast))
        if key not in self._by_cast:
            self._by_cast[key] = Context.build(list(cast))
        return self._by_cast[key]
