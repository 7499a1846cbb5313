"""Scene memory for a suite job. `dramatis.staging.build_scene` opens it as
`dramatis stage --memory` does; this prepares what a suite needs first: the lore of
every play the job needs, indexed into the shared store when the store lacks it (once:
the store and the embedding cache keep it for later jobs and runs), and a memory thread
of its own for each attempt, so a redone job recalls nothing of an interrupted one.
"""

from __future__ import annotations

import uuid
from typing import Any

from dramatis.agents.scene_store import SceneSpec
from dramatis.core.errors import DramatisError
from dramatis.core.settings import Settings
from dramatis.personas import load_play


def ensure_lore(store: Any, embedder: Any, plays: set[str]) -> list[str]:
    """Index each play the store has no lore of; the keys indexed now."""
    from dramatis.memory.lore import index_play
    from dramatis.memory.mirror import Where

    indexed = []
    for key in sorted(plays):
        if store.count("lore", Where(equals=(("play", key),))) > 0:
            continue
        try:
            index_play(store, embedder, load_play(key))
        except DramatisError:
            raise
        except Exception as exc:  # the store or the embedder failed: say which play
            raise DramatisError(
                f"memory: could not index {key} ({type(exc).__name__}: {exc}); run "
                f"`dramatis memory index {key}` to see why, or set memory: false"
            ) from exc
        indexed.append(key)
    return indexed


def prepare_memory(spec: SceneSpec, settings: Settings) -> SceneSpec:
    """Index the lore the spec's plays need; the spec with a fresh memory thread id
    ("JOB-1a2b3c4d"), whose graph and episodic memories start empty."""
    from dramatis.memory.settings import MemorySettings
    from dramatis.memory.stores import open_store

    ms = MemorySettings.of(settings)  # the store and threads the scenes will use
    store = open_store(ms.store)
    try:
        ensure_lore(store, ms.embedder(), set(spec.plays.values()))
    finally:
        store.close()  # build_scene opens the store again
    return spec.model_copy(update={"thread_id": f"{spec.thread_id}-{uuid.uuid4().hex[:8]}"})
