"""`dramatis memory ...`: build the lore store of a play, show what a character knows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from dramatis.core.errors import DramatisError, closest
from dramatis.core.settings import Settings

memory_app = typer.Typer(no_args_is_help=True)

Home = Annotated[Path | None, typer.Option(help="State folder; env DRAMATIS_HOME.")]
Store = Annotated[
    str | None,
    typer.Option(
        help="Memory store: a folder, http://HOST:6333, or :memory:; env DRAMATIS_MEMORY_STORE."
    ),
]
Threads = Annotated[
    int | None, typer.Option(help="Threads for embedding batches; env DRAMATIS_THREADS.")
]


@memory_app.command("index")
def index_cmd(
    play: Annotated[str, typer.Argument(help="Play name, e.g. hamlet.")],
    home: Home = None,
    store: Store = None,
    threads: Threads = None,
) -> None:
    """Put a play's speeches into the lore store (a second run is instant)."""
    from rich.progress import Progress

    from dramatis.memory.lore import index_play
    from dramatis.memory.settings import MemorySettings
    from dramatis.memory.stores import open_store
    from dramatis.personas import load_play

    settings = Settings.load(home=home, n_threads=threads).ensure()
    ms = MemorySettings.of(settings, store)
    parsed = load_play(play)
    vectors = open_store(ms.store)
    try:
        with Progress(transient=True) as bar:
            task = bar.add_task(f"indexing {parsed.key}", total=len(parsed.speeches()))
            report = index_play(vectors, ms.embedder(), parsed, lambda n: bar.advance(task, n))
    finally:
        vectors.close()
    how = "already indexed" if report.skipped else "encoded" if report.encoded else "from cache"
    typer.echo(
        f"{report.play}: {report.speeches} speeches in {ms.store} ({how}, {report.seconds:.1f} s)"
    )


def _graph_for(graphs: Path, thread: str):  # -> MemoryGraph
    from dramatis.memory.graph import MemoryGraph

    path = graphs / f"{thread}.json"
    if not path.exists():
        known = sorted(p.stem for p in graphs.glob("*.json")) if graphs.exists() else []
        hint = closest(thread, known) or known[-3:]
        more = f"; scenes with memory: {', '.join(hint)}" if hint else ""
        raise DramatisError(f"no memory for scene {thread!r}: stage it with --memory{more}")
    return MemoryGraph.load(path)


@memory_app.command("show")
def show_cmd(
    thread_id: Annotated[str, typer.Argument(help="Thread id of a scene staged with --memory.")],
    character: Annotated[str | None, typer.Option(help="Whose memory to show.")] = None,
    turn: Annotated[
        int | None,
        typer.Option(min=0, help="Show turn N's memory step: its tool calls and results."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    recent: Annotated[int, typer.Option(min=1, help="Recent memories to list.")] = 8,
    home: Home = None,
    store: Store = None,
) -> None:
    """What a character knows (graph neighbours and relations, recent memories), or with
    --turn N the tools the scene called for turn N and what they returned."""
    from dramatis.memory.report import knowledge_report, render_report, render_step, turn_step
    from dramatis.memory.settings import MemorySettings
    from dramatis.memory.stores import open_store

    settings = Settings.load(home=home).ensure()
    if turn is not None:
        step = turn_step(settings.scenes_db, thread_id, turn)
        typer.echo(json.dumps(step, indent=2) if as_json else render_step(step))
        return
    if character is None:
        raise DramatisError("memory show: give --character NAME, or --turn N for a turn's tools")
    ms = MemorySettings.of(settings, store)
    graph = _graph_for(ms.graphs, thread_id)
    roles = graph.g.graph.get("roles", {})
    name = next((n for n in roles if n.lower() == character.strip().lower()), None)
    if name is None:
        hint = closest(character, roles) or list(roles)
        raise DramatisError(f"{character!r} is not in scene {thread_id}; try {', '.join(hint)}")
    vectors = open_store(ms.store)
    try:
        report = knowledge_report(graph, vectors, thread_id, name, roles[name][1], recent)
    finally:
        vectors.close()
    typer.echo(json.dumps(report, indent=2) if as_json else render_report(report))
