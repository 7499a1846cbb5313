"""`stage --memory` on a play not yet indexed indexes it then and there, with a progress
bar, instead of stopping with an error."""

import os
import subprocess
import sys

import numpy as np
import pytest

from dramatis.core.errors import DramatisError
from dramatis.memory.attach import ensure_lore, open_scene_memory
from dramatis.memory.mirror import Where
from dramatis.memory.settings import MemorySettings
from dramatis.memory.store import VectorStore
from dramatis.personas import load_play


class HashEmbedder:
    """A stand-in for MiniLM with the Embedder's methods: a unit vector per text from its
    hash (the store, payloads and play are real; only the vectors are not)."""

    def __init__(self):
        self.encoded = 0

    def encode(self, texts, progress=None):
        out = np.stack(
            [np.random.default_rng(abs(hash(t)) % 2**32).normal(size=384) for t in texts]
        )
        self.encoded += len(texts)
        if progress is not None:
            progress(len(texts))
        return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)

    def encode_cached(self, texts, progress=None):
        return self.encode(texts, progress), False


def test_an_unindexed_play_is_indexed_on_first_use(home, capfd):
    settings = MemorySettings.under(home)
    store = VectorStore(settings.store)
    embedder = HashEmbedder()
    cast = [("Viola", "twelfth_night"), ("Orsino", "twelfth_night")]
    try:
        # Opening a scene's memory does not index (chat says so in the app, in one line) ...
        with pytest.raises(DramatisError, match="run `dramatis memory index twelfth_night` once"):
            open_scene_memory(settings, "first", cast, "twelfth_night:1.1", store=store,
                              embedder=embedder)  # fmt: skip
        # ... `stage --memory` indexes first (memory.attach.index_missing), with a bar.
        assert ensure_lore(store, embedder, {"twelfth_night"}) == ["twelfth_night"]
        n = len(load_play("twelfth_night").speeches())
        assert store.count("lore", Where(equals=(("play", "twelfth_night"),))) == n
        assert embedder.encoded == n
        assert ensure_lore(store, embedder, {"twelfth_night"}) == []  # a second time: nothing
        memory = open_scene_memory(settings, "first", cast, "twelfth_night:1.1", store=store,
                                   embedder=embedder)  # fmt: skip
        assert embedder.encoded == n and memory.roles["Viola"].horizon == "1.1"
    finally:
        store.close()
    assert "Traceback" not in capfd.readouterr().err  # (the bar draws only on a terminal)


@pytest.mark.slow  # encodes a whole play with MiniLM: minutes on two shared cores
def test_stage_memory_on_an_unindexed_play_runs(tmp_path):
    env = {**os.environ, "DRAMATIS_HOME": str(tmp_path / "home"), "DRAMATIS_THREADS": "1",
           "HF_HUB_OFFLINE": "1"}  # fmt: skip
    cmd = [sys.executable, "-m", "dramatis", "stage", "--cast", "Viola,Orsino", "--scene",
           "twelfth_night:1.4", "--turns", "1", "--model", "fake", "--memory"]  # fmt: skip
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "thread id" in run.stdout and "no memory of" not in run.stderr
