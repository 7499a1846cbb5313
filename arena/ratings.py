"""Ratings: configurations compared pairwise on the same scenes, Bradley-Terry strengths
(choix) with bootstrap confidence intervals.

Two runs meet when they share cast, starting scene and seed; the one with the higher
fidelity score wins (a tie is no comparison, and is counted apart: `ties`). Baselines are left out: they are real
lines, shown beside every metric in the table, and would only anchor the scale. Ratings are log-strengths centred on
0: a difference of 1 means the higher one wins e/(1+e) ≈ 73% of meetings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from itertools import combinations

import choix
import numpy as np

from dramatis.arena.registry import keys


def fidelity(values: dict[str, float]) -> float:
    """One number per run, 0..1: the mean over the keys the registry rates, a "gain" as
    it is (in-world rate, attribution balanced accuracy) and a "penalty" as one minus it
    (each failure rate). Copying counts as a failure, so retrieved lines cannot pass
    for fidelity.

    fidelity({"in_world": 1.0, "copying": 1.0}) -> 0.5
    """
    parts = [
        values[k.name] if k.rating == "gain" else 1.0 - values[k.name]
        for k in keys()
        if k.rating and k.name in values
    ]
    return float(np.mean(parts)) if parts else 0.0


def meetings(scored: Sequence[dict]) -> list[dict[str, float]]:
    """{config: fidelity} of each group of runs that share cast, scene and seed
    (baselines left out)."""
    met: dict[tuple, dict[str, float]] = defaultdict(dict)
    for row in scored:
        if not row["config"].startswith("baseline:"):
            key = (tuple(row["cast"]), row.get("source_scene"), row.get("seed"))
            met[key][row["config"]] = fidelity(row["values"])
    return list(met.values())


def comparisons(scored: Sequence[dict]) -> tuple[list[str], list[tuple[int, int]]]:
    """(configs, [(winner, loser), ...]) from runs that share cast, scene and seed."""
    met = meetings(scored)
    configs = sorted({config for by_config in met for config in by_config})
    index = {c: i for i, c in enumerate(configs)}
    pairs = []
    for by_config in met:
        for a, b in combinations(sorted(by_config), 2):
            if by_config[a] != by_config[b]:
                win, lose = (a, b) if by_config[a] > by_config[b] else (b, a)
                pairs.append((index[win], index[lose]))
    return configs, pairs


def bradley_terry(n: int, pairs: Sequence[tuple[int, int]], alpha: float = 0.01) -> np.ndarray:
    """Log-strengths of `n` items from (winner, loser) pairs, mean 0 (zeros if none)."""
    if not pairs:
        return np.zeros(n)
    params = choix.ilsr_pairwise(n, list(pairs), alpha=alpha)
    return params - params.mean()


def ratings(scored: Sequence[dict], boot: int = 200, seed: int = 0) -> dict[str, dict[str, float]]:
    """{config: {"rating", "low", "high", "wins", "games", "ties"}}: 95% bootstrap
    interval; tied meetings are in "ties", not in "games"."""
    configs, pairs = comparisons(scored)
    tied = ties(scored)
    point = bradley_terry(len(configs), pairs)
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(boot if pairs else 0):
        picks = rng.integers(0, len(pairs), len(pairs))
        samples.append(bradley_terry(len(configs), [pairs[i] for i in picks]))
    low, high = (np.percentile(samples, q, axis=0) if samples else point for q in (2.5, 97.5))
    out = {}
    for i, config in enumerate(configs):
        wins = sum(w == i for w, _ in pairs)
        games = sum(i in p for p in pairs)
        out[config] = {
            "rating": float(point[i]),
            "low": float(low[i]),
            "high": float(high[i]),
            "wins": float(wins),
            "games": float(games),
            "ties": float(tied.get(config, 0)),
        }
    return out


def ties(scored: Sequence[dict]) -> dict[str, int]:
    """{config: meetings it tied}: equal fidelity scores are no comparison, so the ratings
    leave them out; the report shows how many there were.

    ties([{"config": "a", "cast": ["X"], "seed": 1, "values": {"in_world": 1.0}},
          {"config": "b", "cast": ["X"], "seed": 1, "values": {"in_world": 1.0}}])
        -> {"a": 1, "b": 1}
    """
    counts: dict[str, int] = defaultdict(int)
    for by_config in meetings(scored):
        for a, b in combinations(sorted(by_config), 2):
            if by_config[a] == by_config[b]:
                counts[a] += 1
                counts[b] += 1
    return dict(counts)
