"""Suite configurations with `memory: true`: staged with scene memory as
`dramatis stage --memory` stages them, lore indexed once, failures named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import hamlet_lore_slice

from dramatis.arena.job_memory import ensure_lore
from dramatis.arena.runner import run_suite
from dramatis.arena.suite import Suite, load_suite
from dramatis.core.errors import DramatisError
from dramatis.core.settings import Settings
from dramatis.memory.embed import Embedder
from dramatis.memory.lore import index_play
from dramatis.memory.mirror import Where
from dramatis.memory.settings import MemorySettings
from dramatis.memory.store import VectorStore


def memory_suite() -> Suite:
    return Suite.model_validate(
        {
            "name": "mem",
            "turns": 2,
            "scenes": [{"cast": ["Hamlet", "Ophelia"], "source": "hamlet:3.1"}],
            "configurations": [
                {"name": "m", "prompt_format": "script", "memory": True, "max_tokens": 12}
            ],
        }
    )


def test_hamlet_vs_macbeth_has_a_memory_pair() -> None:
    configs = {c.name: c for c in load_suite("hamlet-vs-macbeth").configurations}
    on, off = configs["smollm2-page-addressed-memory"], configs["smollm2-page-addressed"]
    assert on.memory and not off.memory
    assert on.model_dump(exclude={"name", "memory"}) == off.model_dump(exclude={"name", "memory"})


class Broken:
    """An embedder that fails, as a missing or damaged model would."""

    def encode_cached(self, texts, progress=None):
        raise OSError("model.safetensors: no such file")


def test_lore_that_cannot_be_indexed_is_one_line_naming_the_play(tmp_path: Path) -> None:
    store = VectorStore(str(tmp_path / "store"))
    with pytest.raises(DramatisError, match=r"could not index hamlet .*memory index hamlet"):
        ensure_lore(store, Broken(), {"hamlet"})
    store.close()


@pytest.mark.model
def test_memory_job_stages_with_recall_on_the_real_model(
    tmp_path: Path, home: Path, embedding_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings.load(home=home, n_threads=1)
    ms = MemorySettings.under(settings.home)
    shutil.copytree(embedding_cache, ms.embeddings, dirs_exist_ok=True)
    store, (play, short) = VectorStore(ms.store), hamlet_lore_slice()
    index_play(store, Embedder(ms.embeddings, threads=1), play, speeches=short)
    store.close()
    asked: list[str] = []
    from dramatis.memory.scene_memory import SceneMemory

    real_memories = SceneMemory.memories  # what the graph's recall tool asks

    def spy(self, who, cue, k=4):
        asked.append(cue)
        return real_memories(self, who, cue, k)

    monkeypatch.setattr(SceneMemory, "memories", spy)
    rows = run_suite(memory_suite(), tmp_path / "out", settings=settings)
    assert [r["turns"] for r in rows] == [2]
    folder = tmp_path / "out" / "runs" / rows[0]["job"]
    scene = json.loads((folder / "scene.json").read_text())
    thread = scene["thread_id"]
    assert scene["memory"] is True and thread.startswith(rows[0]["job"] + "-")
    assert ms.graph_path(thread).exists()  # the attempt's own memory graph
    # The agents asked their memory while speaking (what comes back is cut by recall's
    # similarity floor, so a 2-turn scene over a short slice of lore may find nothing).
    assert asked and all(cue.strip() for cue in asked)
    store = VectorStore(ms.store)  # the store was closed by the job: it opens again
    episodic = store.count("episodic", Where(equals=(("thread", thread),)))
    store.close()
    assert episodic == 4 + 2  # the play's four opening speeches and the two turns
