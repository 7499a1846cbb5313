"""Score runs with every metric: one dict of numbers per run, and a mean per configuration."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dramatis.arena.context import Contexts
from dramatis.arena.metric import Metric
from dramatis.arena.registry import metrics as all_metrics
from dramatis.arena.runs import Run, find_runs, load_run


def score_run(run: Run, contexts: Contexts, metrics: Sequence[Metric] | None = None) -> dict:
    """Every metric's numbers for one run, plus per-turn detail for reports."""
    ctx = contexts.get(run.roles)  # each member with the play the scene stored
    values: dict[str, float] = {"turns": float(len(run.scored))}
    detail: dict[str, dict] = {}
    for metric in metrics or all_metrics():
        score = metric.score(run, ctx)
        values.update(score.values)
        detail[metric.name] = {"per_turn": score.per_turn, **score.extra}
    speakers = [t["speaker"] for t in run.scored]
    return {
        "run": run.name,
        "config": run.config,
        "cast": run.cast,
        "source_scene": run.source_scene,
        "seed": run.spec.get("seed"),
        "values": values,
        "speakers": speakers,
        "texts": [t["text"] for t in run.scored],
        "detail": detail,
    }


def summarize(scored: Sequence[dict]) -> dict[str, dict[str, float]]:
    """Mean of each metric per configuration (metrics a run lacks are left out).

    summarize([{"config": "a", "values": {"x": 1}}, {"config": "a", "values": {"x": 0}}]) -> {"a": {"x": 0.5, "runs": 2}}
    """
    by_config: dict[str, list[dict]] = defaultdict(list)
    for row in scored:
        by_config[row["config"]].append(row["values"])
    out: dict[str, dict[str, float]] = {}
    for config, rows in sorted(by_config.items()):
        keys = sorted({k for r in rows for k in r})
        out[config] = {k: float(np.mean([r[k] for r in rows if k in r])) for k in keys}
        out[config]["runs"] = float(len(rows))
    return out


def score_dirs(
    paths: Sequence[Path],
    contexts: Contexts | None = None,
    baselines_dir: Path | None = None,
) -> dict:
    """Score every run folder under `paths`: {"runs": [...], "summary": {...}}.

    With `baselines_dir`, each distinct cast / starting point / length / seed also gets
    the baselines (written there as runs) and they are scored by the same code."""
    contexts = contexts or Contexts()
    runs = [load_run(folder) for folder in find_runs(list(paths))]
    runs = [r for r in runs if not r.config.startswith("baseline:")]
    scored = [score_run(run, contexts) for run in runs]
    if baselines_dir is not None:
        scored += score_baselines(runs, contexts, baselines_dir)
    return {"runs": scored, "summary": summarize(scored)}


def score_baselines(runs: Sequence[Run], contexts: Contexts, out: Path) -> list[dict]:
    """Make, write and score the baselines of each distinct run setting."""
    from dramatis.arena.baselines import baseline_key, make_baselines, write_run

    done: set[tuple] = set()
    scored = []
    for run in runs:
        key = baseline_key(run)
        if key in done or not run.scored:
            continue
        done.add(key)
        for name, base in make_baselines(run, contexts.get(run.roles)).items():
            write_run(out / name / run.name, base)
            scored.append(score_run(base, contexts))
    return scored


def write_scores(scores: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(scores, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
