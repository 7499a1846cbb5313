"""Open the memory of one staged scene: store, embedder, its graph, each character's
place in story time. The app shell calls this; agents see only the result's `recall`."""

from __future__ import annotations

from collections.abc import Sequence

from dramatis.core.errors import DramatisError
from dramatis.memory.clock import horizon_of, parse_horizons
from dramatis.memory.embed import Embedder
from dramatis.memory.graph import MemoryGraph
from dramatis.memory.lore import index_play
from dramatis.memory.mirror import Where
from dramatis.memory.retrieval import Retriever
from dramatis.memory.scene_memory import Role, SceneMemory, seeded_graph
from dramatis.memory.settings import MemorySettings
from dramatis.memory.stores import Store, open_store
from dramatis.personas import load_play


def roles_for(
    cast: Sequence[tuple[str, str]], source_scene: str | None, horizon: str | None = None
) -> dict[str, Role]:
    """{name: Role} for (name, play) pairs; see clock.horizon_of for the horizon rule."""
    return {name: Role(play, horizon_of(source_scene, play, horizon)) for name, play in cast}


def check_horizon(text: str | None) -> str | None:
    """A --horizon setting, checked once before anything loads: every play and scene it
    names exists. Returns it tidied ("Hamlet:01.2" -> "hamlet:1.2"), or None."""
    found = parse_horizons(text)
    for play, scene in list(found.items()):
        try:
            parsed = load_play(play)  # names the near plays
            parsed.scene(scene)  # lists the play's scenes
        except DramatisError as err:
            raise DramatisError(f"--horizon: {err}") from None
        found[parsed.key] = found.pop(play)
    return ",".join(f"{k}:{v}" for k, v in found.items()) or None


def require_lore(store: Store, plays: set[str]) -> None:
    """A one-line error for a play the store does not hold (chat says it in the app)."""
    for play in sorted(plays):
        if store.count("lore", Where(equals=(("play", play),))) == 0:
            raise DramatisError(
                f"no memory of {play} yet: run `dramatis memory index {play}` once (a minute "
                "or more of CPU), or stage with --no-memory"
            )


def index_missing(settings: MemorySettings, plays: Sequence[str]) -> list[str]:
    """`stage --memory`: index the plays the store lacks now, each with a progress bar,
    before the scene opens the store. Returns the plays indexed."""
    store = open_store(settings.store)
    try:
        return ensure_lore(store, settings.embedder(), set(plays))
    finally:
        store.close()


def ensure_lore(store: Store, embedder: Embedder, plays: set[str]) -> list[str]:
    """Index each of `plays` the store does not hold yet, then and there, with a progress
    bar on stderr (a first `stage --memory` of a play). Returns the plays indexed."""
    missing = [p for p in sorted(plays) if store.count("lore", Where(equals=(("play", p),))) == 0]
    for key in missing:
        index_with_bar(store, embedder, key)
    return missing


def index_with_bar(store: Store, embedder: Embedder, key: str) -> None:
    """Index one play with a progress bar on stderr (gone once done)."""
    from rich.console import Console
    from rich.progress import Progress

    play = load_play(key)
    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(
            f"first use of {key}: indexing its speeches", total=len(play.speeches())
        )
        index_play(store, embedder, play, lambda n: bar.advance(task, n))


def open_scene_memory(
    settings: MemorySettings,
    thread: str,
    cast: Sequence[tuple[str, str]],
    source_scene: str | None,
    *,
    store: Store | None = None,
    embedder: Embedder | None = None,
    horizon: str | None = None,
) -> SceneMemory:
    """The scene's memory: its saved graph when it has one (a resume), else a new one."""
    store = store or open_store(settings.store)
    embedder = embedder or settings.embedder()
    roles = roles_for(cast, source_scene, horizon)
    require_lore(store, {r.play for r in roles.values()})
    path = settings.graph_path(thread)
    graph = MemoryGraph.load(path) if path.exists() else seeded_graph(roles)
    if not path.exists():
        graph.g.graph.update(
            thread=thread, roles={n: [r.play, r.horizon] for n, r in roles.items()}
        )
        graph.save(path)
    retriever = Retriever(store, embedder, settings.weights)
    return SceneMemory(
        store, embedder, graph, thread=thread, roles=roles, graph_path=path, retriever=retriever
    )
