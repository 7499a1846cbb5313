"""`dramatis play check`: every speech heading of a play, whom it maps to, and by which rule."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass

from dramatis.personas.model import Play
from dramatis.personas.resolve import WEAK_RULES


@dataclass(frozen=True)
class HeadingRow:
    """One heading form and one person it maps to, with the rule and how many speeches."""

    heading: str
    speaker: str
    rule: str
    speeches: int
    weak: bool  # mapped by a rule the text does not back (flagged for a reader to check)
    resolved: bool

    def as_dict(self) -> dict[str, object]:
        """Plain JSON-ready dict."""
        return asdict(self)


def heading_rows(play: Play) -> list[HeadingRow]:
    """Every (heading, speaker, rule) of a play with its speech count, most speeches first."""
    counts = Counter((s.heading, s.speaker, s.rule, s.resolved) for s in play.speeches())
    rows = [
        HeadingRow(heading, speaker, rule, n, rule in WEAK_RULES, resolved)
        for (heading, speaker, rule, resolved), n in counts.items()
    ]
    return sorted(rows, key=lambda r: (-r.speeches, r.heading, r.speaker))


def weak_rows(play: Play) -> list[HeadingRow]:
    """The rows mapped by a weak rule or left unresolved: what a reader should check."""
    return [r for r in heading_rows(play) if r.weak or not r.resolved]
