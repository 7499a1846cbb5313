"""`dramatis doctor` names every damaged file with its fix and changes nothing."""

from __future__ import annotations

import json

import pytest
from conftest import StubPersona
from typer.testing import CliRunner

from dramatis.agents.character import CharacterAgent
from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.policies import RoundRobin
from dramatis.agents.scene import SceneGraph
from dramatis.agents.scene_store import SceneSpec, SceneStore
from dramatis.cli import app


def doctor(home):
    return CliRunner().invoke(app, ["doctor", "--home", str(home)])


def snapshot(folder):
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_healthy_home(tmp_path):
    home = tmp_path / "home"
    store = SceneStore(home / "scenes.sqlite")
    store.save(SceneSpec(thread_id="t1", cast=["Hamlet", "Ophelia"], setting="A hall."))
    agents = {
        n: CharacterAgent(StubPersona(n), FakeModel(), cast=["Hamlet", "Ophelia"])
        for n in ("Hamlet", "Ophelia")
    }
    list(
        SceneGraph(
            agents, RoundRobin(), setting="A hall.", seed=1, checkpointer=store.checkpointer
        ).run("t1", 2)
    )
    store.close()
    result = doctor(home)
    assert result.exit_code == 0, result.output
    assert "1 scenes" in result.output and "BAD" not in result.output


def test_damaged_files_are_named_and_left_alone(tmp_path):
    home = tmp_path / "home"
    (home / "cache").mkdir(parents=True)
    (home / "scenes.sqlite").write_bytes(b"\x00garbage" * 64)
    broken = home / "adapters" / "hamlet.hamlet" / "v1"
    broken.mkdir(parents=True)
    (broken / "meta.json").write_text("{")
    meta = {"character": "Ophelia", "play": "hamlet", "version": 1, "base_model": "m.gguf"}
    meta |= {"base_sha256": "0" * 64, "data_sha256": "1" * 64}
    thin = home / "adapters" / "hamlet.ophelia" / "v1"
    thin.mkdir(parents=True)
    (thin / "meta.json").write_text(json.dumps(meta))  # no weights beside it
    (home / "cache" / "gemma-3-270m-q4_k_m.gguf").write_bytes(b"<html>not a model</html>")
    before = snapshot(home)
    result = doctor(home)
    assert result.exit_code == 2
    bad = [line for line in result.output.splitlines() if line.startswith("BAD")]
    assert len(bad) == 4, result.output
    assert any("scenes.sqlite" in b and "move it aside" in b for b in bad)
    assert any("hamlet.hamlet" in b and "not valid JSON" in b for b in bad)
    assert any("hamlet.ophelia" in b and "missing v1/adapter_model.safetensors" in b for b in bad)
    assert any("gemma-3-270m-q4_k_m.gguf" in b and "not a GGUF file" in b for b in bad)
    assert snapshot(home) == before  # nothing repaired, moved or deleted


def test_home_that_is_a_file(tmp_path):
    afile = tmp_path / "home"
    afile.write_text("x")
    result = doctor(afile)
    assert result.exit_code == 2 and "is a file, not a folder" in result.output


# -- memory stores ---------------------------------------------------------------------


def memory_store(folder, n=3):
    """A real qdrant local store as dramatis makes it, holding n lore points."""
    import numpy as np

    from dramatis.memory.store import VectorStore, point_id

    store = VectorStore(str(folder))
    vectors = np.eye(n, 384, dtype=np.float32)
    store.upsert(
        "lore", [point_id("d", i) for i in range(n)], vectors, [{"i": i} for i in range(n)]
    )
    store.close()
    return folder


class Trap:
    """A pickle that leaves a file behind when it is loaded."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def plant_trap(store_folder, marker):
    """Add a row to the lore collection whose pickle writes `marker` when loaded."""
    import pickle
    import sqlite3

    conn = sqlite3.connect(store_folder / "collection" / "lore" / "storage.sqlite")
    conn.execute("INSERT INTO points VALUES (?, ?)", ("trap", pickle.dumps(Trap(marker))))
    conn.commit()
    conn.close()


def bad_lines(result):
    return [line for line in result.output.splitlines() if line.startswith("BAD")]


def test_good_memory_store_is_counted_without_loading_a_row(tmp_path, monkeypatch):
    import pickle

    monkeypatch.delenv("DRAMATIS_MEMORY_STORE", raising=False)
    home = tmp_path / "home"
    store = memory_store(home / "memory" / "store")
    pickle.loads(pickle.dumps(Trap(tmp_path / "armed")))  # the trap works when loaded ...
    assert (tmp_path / "armed").exists()
    plant_trap(store, tmp_path / "fired")
    before = snapshot(home)
    result = doctor(home)
    assert result.exit_code == 0, result.output
    assert f"{store}: memory store: all-MiniLM-L6-v2, lore 4 points, episodic 0 points" in (
        result.output
    )
    assert not (tmp_path / "fired").exists()  # ... and doctor never loaded it
    assert snapshot(home) == before


def test_damaged_memory_stores_are_named_and_left_alone(tmp_path, monkeypatch):
    monkeypatch.delenv("DRAMATIS_MEMORY_STORE", raising=False)
    home = tmp_path / "home"
    foreign = home / "memory" / "store"  # the default place, holding someone else's folder
    foreign.mkdir(parents=True)
    (foreign / "notes.txt").write_text("mine")
    stray = memory_store(home / "stores" / "stray")
    (stray / "dramatis-memory.json").unlink()  # a qdrant store without our stamp
    plant_trap(stray, tmp_path / "fired")
    corrupt = memory_store(home / "stores" / "corrupt")
    (corrupt / "dramatis-memory.json").write_bytes(b"\xff{not json")
    old = memory_store(home / "stores" / "old")
    (old / "dramatis-memory.json").write_text(json.dumps({"format": "dramatis-memory-store/0"}))
    torn = memory_store(home / "stores" / "torn")
    (torn / "collection" / "lore" / "storage.sqlite").write_bytes(b"\x00" * 512)
    before = snapshot(home)
    result = doctor(home)
    assert result.exit_code == 2
    bad = bad_lines(result)
    assert len(bad) == 5, result.output
    expected = {
        foreign: "is not a dramatis memory store (no dramatis-memory.json)",
        stray: "is not a dramatis memory store (no dramatis-memory.json)",
        corrupt: "not valid JSON: the store's stamp is damaged; move it aside",
        old: "made by another dramatis version ('dramatis-memory-store/0'",
        torn: "collection lore is damaged",
    }
    for folder, problem in expected.items():
        assert any(b.startswith(f"BAD  {folder}: ") and problem in b for b in bad), folder
    assert all("dramatis memory index PLAY" in b for b in bad if "stamp" in b or "version" in b)
    assert not (tmp_path / "fired").exists()
    assert snapshot(home) == before


def test_memory_store_path_that_is_a_file(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / "store-file").write_text("x")
    monkeypatch.setenv("DRAMATIS_MEMORY_STORE", str(home / "store-file"))
    result = doctor(home)
    assert result.exit_code == 2
    assert any("store-file: cannot be used as a memory store" in b for b in bad_lines(result))


def test_memory_store_on_a_server_is_named_not_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("DRAMATIS_MEMORY_STORE", "http://localhost:6333")
    result = doctor(tmp_path / "home-none")
    assert result.exit_code == 0, result.output
    assert "memory store" not in result.output  # home not made yet: nothing to look at
    (tmp_path / "home").mkdir()
    result = doctor(tmp_path / "home")
    assert "ok   http://localhost:6333: memory store on a Qdrant server" in result.output


def test_scene_memory_graphs(tmp_path, monkeypatch):
    from dramatis.memory.graph import GRAPH_FORMAT, Fact, MemoryGraph

    monkeypatch.delenv("DRAMATIS_MEMORY_STORE", raising=False)
    home = tmp_path / "home"
    graphs = home / "memory" / "graphs"
    good = MemoryGraph()
    good.add_fact(Fact("Hamlet", "met", "Ophelia", "3.1+2", witnesses=["Hamlet", "Ophelia"]))
    good.save(graphs / "t1.json")
    torn = {"format": GRAPH_FORMAT, "graph": {"nodes": [{"id": "Hamlet"}], "edges": [{}]}}
    (graphs / "t2.json").write_text(json.dumps(torn))
    (graphs / "t3.json").write_bytes(b"[" * 100_000)
    before = snapshot(home)
    result = doctor(home)
    assert result.exit_code == 2
    bad = bad_lines(result)
    assert len(bad) == 2, result.output
    assert bad[0].startswith(f"BAD  {graphs / 't2.json'}: damaged memory graph")
    assert bad[1].startswith(f"BAD  {graphs / 't3.json'}: unreadable memory graph")
    assert f"ok   {graphs}: 1 scene memory graph(s)" in result.output
    assert snapshot(home) == before


# -- limits: a cut-short model, damaged cards, scenes with no turns, a read-only home ---


def test_a_model_file_cut_short_is_found(tmp_path):
    from dramatis.doctor import declared_size

    home = tmp_path / "home"
    (home / "cache").mkdir(parents=True)
    cut = home / "cache" / "gemma-3-270m-q4_k_m.gguf"
    cut.write_bytes(b"GGUF" + bytes(4096))  # starts like a model, stops early
    result = doctor(home)
    assert result.exit_code == 2
    (line,) = [x for x in result.output.splitlines() if x.startswith("BAD")]
    assert (
        str(cut) in line and f"is 4100 bytes, its package declares {declared_size('gemma3-270m')}"
    )
    assert "delete" in line


def test_damaged_cards_are_named(tmp_path):
    home = tmp_path / "home"
    (home / "cards").mkdir(parents=True)
    (home / "cards" / "broken.json").write_text("{", encoding="utf-8")
    (home / "cards" / "nameless.json").write_text('{"spec": "chara_card_v2", "data": {}}')
    result = doctor(home)
    bad = [x for x in result.output.splitlines() if x.startswith("BAD")]
    assert result.exit_code == 2 and len(bad) == 2, result.output
    assert all("--force" in b for b in bad)
    assert any("broken.json" in b and "not JSON" in b for b in bad)


def test_scenes_with_no_turns_are_listed(tmp_path):
    home = tmp_path / "home"
    store = SceneStore(home / "scenes.sqlite")
    store.save(SceneSpec(thread_id="never-spoke", cast=["Hamlet", "Ophelia"], setting="A hall."))
    store.close()
    result = doctor(home)
    assert result.exit_code == 0, result.output
    assert "1 scene(s) with no turns yet (never-spoke)" in result.output


def read_only_mount(source, target):
    """`source` mounted read-only at `target` (a bind mount: root can write a chmod-ed
    folder, not a read-only file system); skips where mounting is not allowed."""
    import subprocess

    target.mkdir()
    if subprocess.run(
        ["mount", "--bind", str(source), str(target)], capture_output=True
    ).returncode:
        pytest.skip("cannot bind-mount here")
    done = subprocess.run(["mount", "-o", "remount,bind,ro", str(target)], capture_output=True)
    if done.returncode:
        subprocess.run(["umount", str(target)], check=True)
        pytest.skip("cannot remount read-only here")
    return target


def test_a_read_only_home_is_diagnosed_and_its_wal_database_is_not_called_damaged(tmp_path):
    import subprocess

    source = tmp_path / "home"
    store = SceneStore(source / "scenes.sqlite")
    store.save(SceneSpec(thread_id="t1", cast=["Hamlet", "Ophelia"], setting="A hall."))
    store.checkpointer.setup()  # WAL mode, as every scenes database is
    store.close()
    (tmp_path / "empty").mkdir()
    home = read_only_mount(source, tmp_path / "ro")
    empty = read_only_mount(tmp_path / "empty", tmp_path / "ro-empty")
    try:
        result, bare = doctor(home), doctor(empty)
    finally:
        subprocess.run(["umount", str(home)], check=True)
        subprocess.run(["umount", str(empty)], check=True)
    bad = [x for x in result.output.splitlines() if x.startswith("BAD")]
    assert len(bad) == 1 and "cannot be written" in bad[0], result.output
    assert "1 scenes" in result.output and "damaged" not in result.output
    assert bare.exit_code == 2 and "cannot be written" in bare.output


def test_a_checkpoint_that_does_not_decode_is_named(tmp_path):

    home = tmp_path / "home"
    store = SceneStore(home / "scenes.sqlite")
    store.save(SceneSpec(thread_id="t1", cast=["Hamlet", "Ophelia"], setting="A hall."))
    store.checkpointer.setup()
    store.conn.execute(
        "INSERT INTO checkpoints VALUES ('t1', '', 'c1', NULL, 'msgpack', x'c1c1c1', x'80')"
    )
    store.conn.commit()
    store.close()
    result = doctor(home)
    assert result.exit_code == 2, result.output
    (line,) = [x for x in result.output.splitlines() if x.startswith("BAD")]
    assert "does not decode for t1" in line
    listed = CliRunner().invoke(app, ["scenes", "--home", str(home)])
    assert listed.exit_code == 0 and "turns unreadable" in listed.output
