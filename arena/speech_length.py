"""Speech length: how far each character's generated speeches are from their real length.

`words_median`: median words a generated turn (canon tokens, arena/canon.py).
`real_words_median`: the median of the cast's real speeches, each speaker weighted by
their share of the run's turns (what the run would show at real lengths).
`length_gap`: per speaker, |generated median - real median| / real median, averaged over
the run's speakers (0 = each at their own real median; 0.5 = half or one and a half).
Calibration (docs/arena.md): held-out real lines 0.1-0.3 a run (12 turns are few),
under 0.1 pooled over a cell.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dramatis.arena.canon import tokens
from dramatis.arena.context import Context
from dramatis.arena.metric import Key, Score
from dramatis.arena.runs import Run


def weighted_median(values: Sequence[float], weights: Sequence[float]) -> float:
    """The value at which the cumulative weight first reaches half of the total.

    weighted_median([1, 2, 10], [1, 1, 3]) -> 10
    """
    order = np.argsort(values)
    cumulative = np.cumsum(np.asarray(weights, dtype=float)[order])
    return float(
        np.asarray(values, dtype=float)[order][np.searchsorted(cumulative, cumulative[-1] / 2)]
    )


def real_lengths(ctx: Context, name: str) -> list[int]:
    """Words of each of a cast member's real speeches (cached in the context)."""
    key = ("lengths", name)
    if key not in ctx.cache:
        ctx.cache[key] = [len(tokens(s.text)) for s in ctx.real_speeches(name)]
    found: list[int] = ctx.cache[key]
    return found


def length_figures(turns: Sequence[dict], ctx: Context) -> dict[str, float]:
    """words_median, real_words_median and length_gap over turns of the cast ({} if none)."""
    said: dict[str, list[int]] = {}
    for t in turns:
        if t["speaker"] in ctx.personas:
            said.setdefault(t["speaker"], []).append(len(tokens(t["text"])))
    if not said:
        return {}
    gaps, values, weights = [], [], []
    for name, lengths in said.items():
        real = real_lengths(ctx, name)
        middle = float(np.median(real))
        gaps.append(abs(float(np.median(lengths)) - middle) / max(middle, 1.0))
        values += real
        weights += [len(lengths) / len(real)] * len(real)
    return {
        "words_median": float(np.median([n for v in said.values() for n in v])),
        "real_words_median": weighted_median(values, weights),
        "length_gap": float(np.mean(gaps)),
    }


class SpeechLength:
    """Generated speech lengths against each speaker's real lengths."""

    name = "speech_length"
    keys = (
        Key("words_median", "", fmt=".1f"),
        Key("real_words_median", "", fmt=".1f"),
        Key("length_gap", "lower"),
    )

    def score(self, run: Run, ctx: Context) -> Score:
        return Score(
            length_figures(run.scored, ctx),
            per_turn=[float(len(tokens(t["text"]))) for t in run.scored],
        )
