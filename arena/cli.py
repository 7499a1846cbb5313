"""`dramatis arena score|run|report`: score transcripts, run suites, write reports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

arena_app = typer.Typer(
    help="Benchmark persona fidelity: score runs, run suites, write reports.",
    no_args_is_help=True,
)

SHOWN = (
    "in_world",
    "prompt_echo",
    "repetition",
    "copying",
    "fallback",
    "impersonation",
    "knowledge_leak",
    "attribution_balanced",
    "attribution_lift",
    "drift",
    "judge_saw",
    "rouge_l",
    "bleu",
)


def summary_table(summary: dict[str, dict[str, float]]) -> Table:
    """A rich table: one row per headline metric, one column per configuration."""
    table = Table("metric", *summary)
    table.add_row("runs", *(str(int(v.get("runs", 0))) for v in summary.values()))
    for key in SHOWN:
        table.add_row(key, *(f"{v[key]:.2f}" if key in v else "-" for v in summary.values()))
    return table


@arena_app.command("score")
def score_cmd(
    runs: Annotated[
        list[Path],
        typer.Argument(help="Run folders (transcript.jsonl + scene.json), or folders of them."),
    ],
    out: Annotated[
        Path | None,
        typer.Option(help="Where to write scores.json (default: first RUN_DIR/scores.json)."),
    ] = None,
    baselines: Annotated[
        bool,
        typer.Option(help="Also make and score the baselines (script, retrieval, swap, random)."),
    ] = True,
) -> None:
    """Score existing transcripts with every metric -> scores.json."""
    from dramatis.arena.scoring import score_dirs, write_scores

    target = out or runs[0] / "scores.json"
    scores = score_dirs(runs, baselines_dir=target.parent / "baselines" if baselines else None)
    write_scores(scores, target)
    console = Console()
    console.print(summary_table(scores["summary"]))
    console.print(f"[dim]{len(scores['runs'])} runs scored · {target}[/dim]")
