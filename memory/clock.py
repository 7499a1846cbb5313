"""Story time: when something happened, as a play scene ("3.4") or a turn of a staged
scene at that point of the play ("3.1+5"), and the horizon a character may know up to.

A moment's key orders everything: (act, scene, turn); play events have turn 0, and a
staged scene's turns come after the play's own lines of the scenes before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dramatis.core.errors import DramatisError

_MOMENT = re.compile(r"^(\d+)\.(\d+)(?:\+(\d+))?$")
END_OF_PLAY = "99.0"  # a horizon after every scene: the whole play is known


@dataclass(frozen=True, order=True)
class Moment:
    act: int
    scene: int
    turn: int = 0  # 0: the play itself; n > 0: turn n of a scene staged at act.scene

    @classmethod
    def parse(cls, text: str) -> Moment:
        """Moment.parse("3.1+5") -> Moment(3, 1, 5); Moment.parse("3.4") -> Moment(3, 4, 0)."""
        m = _MOMENT.match(text.strip())
        if not m:
            raise DramatisError(f"moment {text!r}: write ACT.SCENE or ACT.SCENE+TURN, e.g. 3.4")
        return cls(int(m[1]), int(m[2]), int(m[3] or 0))

    def __str__(self) -> str:
        return f"{self.act}.{self.scene}" + (f"+{self.turn}" if self.turn else "")

    @property
    def clock(self) -> int:
        """The scene as one sortable number: Moment(3, 4).clock -> 304."""
        return self.act * 100 + self.scene


def scene_clock(act: int, scene: int) -> int:
    """scene_clock(3, 4) -> 304: scenes sort by this number (payload filters use it)."""
    return act * 100 + scene


def turn_moment(horizon: str, index: int) -> str:
    """The moment of turn `index` (0-based) of a scene staged at `horizon`.

    turn_moment("3.1", 0) -> "3.1+1"
    """
    h = Moment.parse(horizon)
    return str(Moment(h.act, h.scene, index + 1))


def parse_horizons(text: str | None) -> dict[str, str]:
    """A horizon setting ("hamlet:1.2", or several: "hamlet:1.2,macbeth:2.1") as
    {play key: scene}; one-line DramatisError for anything else.

    parse_horizons("hamlet:1.2") -> {"hamlet": "1.2"}; parse_horizons(None) -> {}
    """
    found: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        key, _, scene = part.partition(":")
        m = _MOMENT.match(scene.strip())
        if not key.strip() or not m or m[3]:
            raise DramatisError(
                f"--horizon {part.strip()!r}: write PLAY:ACT.SCENE, e.g. hamlet:3.1"
            )
        found[key.strip().lower()] = f"{int(m[1])}.{int(m[2])}"
    return found


def horizon_of(source_scene: str | None, play: str, horizon: str | None = None) -> str:
    """The horizon for a character of `play`: the scene a staged scene is seeded from
    ("hamlet:1.3") when it is of the same play, else the `horizon` setting's scene for
    that play ("hamlet:1.3,macbeth:2.1"), else the end of the play. With both, the
    earlier wins: nothing after either is known.

    horizon_of("hamlet:1.3", "hamlet") -> "1.3"; horizon_of(None, "hamlet") -> "99.0";
    horizon_of(None, "hamlet", "hamlet:2.2") -> "2.2"
    """
    bounds = [END_OF_PLAY]
    for ref in (source_scene, horizon):
        if ref and ":" in ref:
            scene = parse_horizons(ref).get(play.lower())
            bounds += [scene] if scene else []
    return str(min(Moment.parse(b) for b in bounds))


def known_at(since: str, horizon: str) -> bool:
    """Whether something from `since` is known at `horizon`: strictly before it in play
    time, or a turn of the staged scene at or before the horizon turn.

    known_at("1.2", "1.3") -> True; known_at("3.1", "1.3") -> False;
    known_at("1.3+2", "1.3+4") -> True; known_at("1.3", "1.3") -> False
    """
    s, h = Moment.parse(since), Moment.parse(horizon)
    if s.turn == 0:
        return s.clock < h.clock
    return (s.clock, s.turn) <= (h.clock, h.turn) if h.turn else s.clock <= h.clock
