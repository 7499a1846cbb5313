"""Repetition: a turn that repeats an earlier turn of the scene, of any length ("I am,
sir." twelve times), and distinct-1 / distinct-2 over the scene's turns.

`repetition` ranges 0..1, the share of turns that repeat (lower is better): a turn
repeats when its words equal an earlier turn's, or when one holds the other whole and
the shorter has >= 3 words. distinct-n ranges 0..1 (higher: more varied). Checked on
known inputs in tests/test_arena_metrics.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from dramatis.arena.context import Context
from dramatis.arena.metric import Score, rate
from dramatis.arena.runs import Run
from dramatis.arena.words import distinct, normal

MIN_CONTAINED = 3  # words: shorter turns repeat only when equal


def repeats(text: str, earlier: Sequence[str]) -> bool:
    """Whether `text` repeats one of the `earlier` turns.

    repeats("I am, sir.", ["I am, sir!"]) -> True
    repeats("Go to.", ["Go to, I say, go to thy rest."]) -> False
    """
    mine = normal(text)
    if not mine:
        return False
    for other in map(normal, earlier):
        if mine == other:
            return True
        short, long = sorted((mine, other), key=len)
        if len(short.split()) >= MIN_CONTAINED and f" {short} " in f" {long} ":
            return True
    return False


class Repetition:
    """Share of turns repeating an earlier turn; distinct-1 and distinct-2."""

    name = "repetition"

    def score(self, run: Run, ctx: Context) -> Score:
        texts = [t["text"] for t in run.scored]
        flags = [repeats(text, texts[:i]) for i, text in enumerate(texts)]
        return Score(
            {
                "repetition": rate(flags),
                "distinct_1": distinct(texts, 1),
                "distinct_2": distinct(texts, 2),
            },
            per_turn=[float(f) for f in flags],
        )
