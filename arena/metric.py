"""The metric interface: a named unit that scores one run against the plays.

Every metric returns plain numbers (JSON-ready) for a run. Metrics that judge single
turns also return a per-turn list, so reports can show where a scene went wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from dramatis.arena.context import Context
from dramatis.arena.runs import Run


@dataclass(frozen=True)
class Key:
    """One number a metric reports, and what the CLI, plots, report and ratings need to
    show it: which way is better, how to print it, where it appears."""

    name: str  # the key in scores.json, e.g. "in_world"
    better: Literal["higher", "lower", ""] = ""  # "": no direction (a count, a reference)
    fmt: str = ".2f"  # format spec for tables
    cli: bool = True  # a row of `dramatis arena score`'s table
    table: bool = True  # a row of the report's metric table (HTML and PNG)
    rating: Literal["gain", "penalty", ""] = ""  # enters fidelity as v ("gain") or 1 - v

    def show(self, value: float) -> str:
        """The value as tables print it.

        Key("bleu", fmt=".1f").show(28.483) -> "28.5"
        """
        return format(value, self.fmt)


@dataclass
class Score:
    """What a metric says about one run."""

    values: dict[str, float]  # summary numbers, e.g. {"in_world": 0.92}
    per_turn: list[float] = field(default_factory=list)  # aligned with run.scored
    extra: dict = field(default_factory=dict)  # detail for reports (confusion, flags)


class Metric(Protocol):
    """A metric: `name`, the `keys` it reports, a docstring saying what/range/calibration,
    and `score`."""

    name: str
    keys: tuple[Key, ...]

    def score(self, run: Run, ctx: Context) -> Score: ...


def rate(flags: list[bool]) -> float:
    """Fraction of True flags (0.0 for no turns).

    rate([True, False, False, False]) -> 0.25
    """
    return sum(flags) / len(flags) if flags else 0.0
