"""The metric interface: a named unit that scores one run against the plays.

Every metric returns plain numbers (JSON-ready) for a run. Metrics that judge single
turns also return a per-turn list, so reports can show where a scene went wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from dramatis.arena.context import Context
from dramatis.arena.runs import Run


@dataclass
class Score:
    """What a metric says about one run."""

    values: dict[str, float]  # summary numbers, e.g. {"in_world": 0.92}
    per_turn: list[float] = field(default_factory=list)  # aligned with run.scored
    extra: dict = field(default_factory=dict)  # detail for reports (confusion, flags)


class Metric(Protocol):
    """A metric: `name`, a docstring saying what/range/calibration, and `score`."""

    name: str

    def score(self, run: Run, ctx: Context) -> Score: ...


def rate(flags: list[bool]) -> float:
    """Fraction of True flags (0.0 for no turns).

    rate([True, False, False, False]) -> 0.25
    """
    return sum(flags) / len(flags) if flags else 0.0
