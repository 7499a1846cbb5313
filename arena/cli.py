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


def summary_table(summary: dict[str, dict[str, float]]) -> Table:
    """A rich table: one row per headline metric (the registry's `cli` keys), one column
    per configuration."""
    from dramatis.arena.registry import shown

    table = Table("metric", *summary)
    table.add_row("runs", *(str(int(v.get("runs", 0))) for v in summary.values()))
    for key in shown("cli"):
        table.add_row(
            key.name, *(key.show(v[key.name]) if key.name in v else "-" for v in summary.values())
        )
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


@arena_app.command("run")
def run_cmd(
    suite: Annotated[
        str, typer.Argument(help="Suite YAML path, or a shipped suite: smoke, hamlet-vs-macbeth.")
    ],
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default runs/arena/SUITE).")
    ] = None,
    executor: Annotated[str, typer.Option(help="local | ray")] = "local",
    workers: Annotated[int, typer.Option(min=1, help="Scenes in flight (ray executor).")] = 2,
    home: Annotated[
        Path | None, typer.Option(help="State folder (adapters, model cache); env DRAMATIS_HOME.")
    ] = None,
    threads: Annotated[
        int | None, typer.Option(help="llama.cpp threads per scene; env DRAMATIS_THREADS.")
    ] = None,
) -> None:
    """Run every configuration × scene × seed of a suite, then score it (resumable)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from dramatis.arena.runner import EXECUTORS, pending, run_suite
    from dramatis.arena.scoring import score_dirs, write_scores
    from dramatis.arena.suite import load_suite
    from dramatis.core.errors import DramatisError
    from dramatis.core.settings import Settings

    if executor not in EXECUTORS:
        raise DramatisError(f"--executor {executor!r}: use one of {', '.join(EXECUTORS)}")
    plan = load_suite(suite)
    target = out or Path("runs") / "arena" / plan.name
    settings = Settings.load(home=home, n_threads=threads).ensure()
    total, todo = len(plan.jobs()), len(pending(plan, target))
    console = Console()
    console.print(f"[dim]{plan.name}: {total} scenes, {total - todo} already done · {target}[/dim]")
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=console,
    )
    with bar:
        task = bar.add_task(plan.name, total=total, completed=total - todo)
        run_suite(
            plan,
            target,
            executor=executor,
            workers=workers,
            settings=settings,
            on_done=lambda row: bar.advance(task),
        )
    scores = score_dirs([target / "runs"], baselines_dir=target / "baselines")
    write_scores(scores, target / "scores.json")
    console.print(summary_table(scores["summary"]))
    console.print(
        f"[dim]results {target / 'results.jsonl'} · scores {target / 'scores.json'}[/dim]"
    )


@arena_app.command("report")
def report_cmd(
    folder: Annotated[
        Path,
        typer.Argument(help="The --out folder of `dramatis arena run` (or any folder of runs)."),
    ],
) -> None:
    """Write scores.json, ratings, PNG plots and a self-contained report.html."""
    from dramatis.arena.report import write_report

    target = write_report(folder)
    Console().print(f"report: {target}")
