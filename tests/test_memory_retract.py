"""Retraction on the real path (MiniLM, a qdrant local store, a LangGraph scene with a
SQLite checkpoint): a turn taken back by retry or undo leaves nothing in the episodic
store or the graph, and a resume after an undo forgets the turns past the head."""

import numpy as np
import pytest
from test_memory_scene import index_slice

from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.scene import Partial
from dramatis.agents.scene_store import SceneSpec, SceneStore
from dramatis.core.settings import Settings
from dramatis.memory.graph import MemoryGraph
from dramatis.memory.mirror import Mirror, Where
from dramatis.memory.store import VectorStore
from dramatis.staging import build_scene

CAST = ["Hamlet", "Horatio", "Marcellus"]
RETRACTED = "Marcellus, where is the ghost of Yorick?"
KEPT = "The sun is up, good Horatio."


def episodic_texts(memory) -> list[str]:
    return [
        p["text"]
        for p in memory.store.payloads("episodic", Where(equals=(("thread", memory.thread),)))
    ]


@pytest.fixture
def staged(home, embedding_cache, monkeypatch):
    monkeypatch.setenv("DRAMATIS_THREADS", "1")
    settings = Settings.load().ensure()
    index_slice(settings, embedding_cache)
    spec = SceneSpec(thread_id="retract", cast=CAST, plays=dict.fromkeys(CAST, "hamlet"),
                     setting="The platform, at night.", model="fake", seed=2, memory=True,
                     agent={"max_tokens": 24})  # fmt: skip
    store = SceneStore(settings.scenes_db)
    store.save(spec)
    model = FakeModel(["Who is there?", RETRACTED, KEPT, "Peace, break thee off."], chat=False)
    staged = build_scene(spec, store, settings, model=model)
    yield staged, store, settings
    if not staged.memory.store.closed:
        staged.memory.store.close()


def said(events):
    return [e for e in events if not isinstance(e, Partial)]


def counts(graph) -> dict[str, int]:
    """How often Hamlet has addressed each of the others (the play's sightings and the scene's)."""
    return {n: graph.fact("Hamlet", "addressed", n).count for n in ("Horatio", "Marcellus")}


def test_a_retried_turn_leaves_nothing_in_memory(staged):
    staged, _, _ = staged
    scene, memory, thread = staged.scene, staged.memory, "retract"
    said(scene.run(thread, 1, speaker="Horatio"))
    before = counts(memory.graph)
    (first,) = said(scene.run(thread, 1, speaker="Hamlet"))
    assert first["text"] == RETRACTED and RETRACTED in episodic_texts(memory)
    assert counts(memory.graph)["Marcellus"] == before["Marcellus"] + 1
    (again,) = said(scene.retry(thread))
    assert again["text"] == KEPT and again["index"] == first["index"]
    assert RETRACTED not in episodic_texts(memory) and KEPT in episodic_texts(memory)
    for who in CAST:  # the very words of the retracted line find nothing of it
        assert all(m.text != RETRACTED for m in memory.memories(who, RETRACTED, 20))
        assert not any("Yorick" in line for line in memory.recall(who, RETRACTED, 8))
    want = {"Horatio": before["Horatio"] + 1, "Marcellus": before["Marcellus"]}
    assert counts(memory.graph) == want  # the retracted turn's sighting is gone
    assert counts(MemoryGraph.load(memory.graph_path)) == want  # on disk too
    assert memory.store.count("episodic") == len(scene.turns(thread)) == 2


def test_undo_and_a_resume_after_it_forget_the_turns_taken_back(staged):
    staged, store, settings = staged
    scene, memory, thread = staged.scene, staged.memory, "retract"
    said(scene.run(thread, 2, speaker="Horatio"))
    assert memory.seen == {0, 1}
    scene.rewind(thread, 1)  # undo
    assert memory.seen == {0} and memory.store.count("episodic") == 1
    said(scene.run(thread, 1, speaker="Horatio"))
    scene.observers = ()  # a crash between an undo and its retraction ...
    scene.rewind(thread, 1)
    assert memory.seen == {0, 1}
    memory.store.close()
    again = build_scene(store.load(thread), store, settings, model=FakeModel(chat=False))
    assert again.memory.seen == {0} and again.memory.store.count("episodic") == 1  # ... heals


def test_mirror_and_store_delete_the_same_points():
    store = VectorStore(":memory:")
    try:
        rng = np.random.default_rng(0)
        vectors = rng.normal(size=(5, 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        ids = [f"00000000-0000-0000-0000-00000000000{i}" for i in range(5)]
        store.upsert("episodic", ids, vectors, [{"turn": i, "thread": "t"} for i in range(5)])
        store.delete("episodic", ids[1:3] + ["00000000-0000-0000-0000-000000000009"])
        assert store.count("episodic") == 3 and len(store.mirrors["episodic"]) == 3
        hits = store.search("episodic", vectors[1], Where(), 5)
        assert {h.id for h in hits} == {ids[0], ids[3], ids[4]}
        plain = VectorStore.__new__(VectorStore)
        plain.use_mirror, plain.client, plain.mirrors = False, store.client, {}
        assert {h.id for h in plain.search("episodic", vectors[1], Where(), 5)} == {
            ids[0], ids[3], ids[4]
        }  # fmt: skip
    finally:
        store.close()
    mirror = Mirror(2)
    mirror.add(["a", "b"], np.eye(2, dtype=np.float32), [{}, {}])
    mirror.remove(["a"])
    assert mirror.ids == ["b"] and mirror.rows == {"b": 0} and mirror.vectors.shape == (1, 2)
