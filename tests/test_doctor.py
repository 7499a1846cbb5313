"""`dramatis doctor` names every damaged file with its fix and changes nothing."""

from __future__ import annotations

import json

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
