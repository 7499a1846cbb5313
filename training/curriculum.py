"""Curriculum: train on plain short speeches first, long ornate ones last.

The complexity score is a pure function of the target text, so the order is the
same on every machine for a given seed.
"""

from __future__ import annotations

import math
import random
import re
from typing import TypeVar

T = TypeVar("T")

_WORD = re.compile(r"[A-Za-z']+")


def complexity(text: str) -> float:
    """Length, word length and long-word share of a speech, in one score.

    complexity("Ay, madam.") < complexity("O, that this too too solid flesh would melt, thaw...")
    """
    words = _WORD.findall(text)
    if not words:
        return 0.0
    mean_len = sum(len(w) for w in words) / len(words)
    long_share = sum(len(w) >= 7 for w in words) / len(words)
    clauses = len(re.findall(r"[,;:]", text))
    return math.log2(1 + len(words)) + 0.5 * mean_len + 2.0 * long_share + 0.1 * clauses


def stage_of(scores: list[float], stages: int) -> list[int]:
    """Stage (0 = easiest) of each score by rank, in `stages` equal-sized groups.

    stage_of([5.0, 1.0, 3.0], 3) -> [2, 0, 1]
    """
    ranked = sorted(range(len(scores)), key=lambda i: (scores[i], i))
    out = [0] * len(scores)
    for rank, i in enumerate(ranked):
        out[i] = min(stages - 1, rank * stages // max(1, len(scores)))
    return out


def order_examples(
    examples: list[T], *, curriculum: bool, stages: int = 3, seed: int = 0
) -> list[T]:
    """A seeded shuffle; with `curriculum`, stage by stage from easy to hard,
    shuffled within each stage. Examples need a `.target` text."""
    rng = random.Random(seed)
    items = list(examples)
    if not curriculum:
        rng.shuffle(items)
        return items
    stage = stage_of([complexity(e.target) for e in items], max(1, stages))  # type: ignore[attr-defined]
    out: list[T] = []
    for s in range(max(1, stages)):
        group = [e for e, g in zip(items, stage, strict=True) if g == s]
        rng.shuffle(group)
        out.extend(group)
    return out
