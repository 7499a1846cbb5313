"""The voice figures of many runs of one cast, pooled: what the fidelity table reports.

A single 12-turn run gives a noisy discriminator and few groups for the group judge;
pooling every run of a configuration's cell (same cast) gives the figure that matters.
Each run's turns keep their run's name, so the discriminator's folds and the group
judge's runs stay apart.
"""

from __future__ import annotations

from collections.abc import Sequence

from dramatis.arena.context import Context
from dramatis.arena.diction import diction_figures
from dramatis.arena.discriminator import discriminate
from dramatis.arena.group_judge import group_figures
from dramatis.arena.modern_words import modern_figures
from dramatis.arena.register import register_figures
from dramatis.arena.runs import Run
from dramatis.arena.self_repeats import self_repeat_figures
from dramatis.arena.speech_length import length_figures


def pooled_turns(runs: Sequence[Run]) -> list[dict]:
    """Every scored turn of `runs`, each tagged with its run ("run": "name#i")."""
    return [{**t, "run": f"{r.name}#{i}"} for i, r in enumerate(runs) for t in r.scored]


def pooled_voice(runs: Sequence[Run], ctx: Context, seed: int = 0) -> dict[str, float]:
    """Diction, modern words, modern register, length, self-repeats, discriminator and
    group judge over all `runs`."""
    turns = pooled_turns(runs)
    return {
        **diction_figures(turns, ctx),
        **modern_figures(turns, ctx),
        **register_figures(turns, ctx),
        **length_figures(turns, ctx),
        **self_repeat_figures(turns, ctx),
        **discriminate(turns, ctx, seed),
        **group_figures(turns, ctx),
    }
