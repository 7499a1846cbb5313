"""`--json` on every listing: the shapes documented in docs/ecosystem.md."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from dramatis.agents.scene_store import SceneSpec, SceneStore
from dramatis.cli import app
from dramatis.training.registry import AdapterMeta, AdapterRegistry

FIXTURES = Path(__file__).parent / "fixtures" / "cards"
runner = CliRunner()


def listing(*args: str) -> list[dict] | dict:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_models_json():
    rows = listing("models")
    assert [r["name"] for r in rows][:2] == ["smollm2", "gemma3-270m"]
    keys = {"name", "package", "install", "description", "path", "present", "installed"}
    assert set(rows[0]) == keys


def test_scenes_json(home):
    store = SceneStore(home / "scenes.sqlite")
    store.save(
        SceneSpec(thread_id="hamlet-ophelia-1", cast=["Hamlet", "Ophelia"], setting="A hall.")
    )
    store.close()
    rows = listing("scenes")
    assert [r["thread_id"] for r in rows] == ["hamlet-ophelia-1"]
    assert rows[0]["cast"] == ["Hamlet", "Ophelia"] and rows[0]["model"] == "smollm2"
    assert {"setting", "seed", "policy", "created", "adapters"} <= set(rows[0])


def test_personas_list_json_includes_imported_cards(home):
    assert (
        runner.invoke(app, ["personas", "import", str(FIXTURES / "brigid_v3.json")]).exit_code == 0
    )
    rows = listing("personas", "list")
    assert {"name": "Hamlet", "play": "hamlet", "lines": 1421} in rows
    assert {"name": "Brigid", "play": "card", "lines": 0} in rows
    imported = listing("personas", "import", str(FIXTURES / "yorick_v2.json"))
    assert imported["name"] == "Yorick" and imported["talkativeness"] == 0.9


def test_adapters_list_json(home, tmp_path):
    registry = AdapterRegistry(home / "adapters")
    for stage in ("sft", "dpo"):
        staged = tmp_path / "staged"
        staged.mkdir()
        meta = AdapterMeta(
            stage=stage,
            parent=1 if stage == "dpo" else None,
            metrics={"pref_acc_after": 0.75} if stage == "dpo" else {},
            character="Hamlet",
            play="hamlet",
            base_model="m.gguf",
            base_sha256="ab",
            data_sha256="cd",
            ppl_before=30.5,
            ppl_after=21.0,
            steps=40,
        )
        registry.add(staged, meta)
    rows = listing("adapters", "list")
    assert [(r["version"], r["active"]) for r in rows] == [(1, False), (2, True)]
    assert [r["served"] for r in rows] == [False, True]  # one base: the active one
    assert rows[1]["name"] == "hamlet.hamlet@v2" and rows[1]["ppl_after"] == 21.0
    assert [(r["stage"], r["parent"]) for r in rows] == [("sft", None), ("dpo", 1)]
    assert rows[1]["metrics"] == {"pref_acc_after": 0.75} and rows[0]["metrics"] == {}
    assert listing("adapters", "list") == listing("adapters", "list", "Hamlet")


def test_play_stats_json():
    stats = listing("play", "stats", "macbeth")
    assert stats["play"] == "macbeth" and stats["characters"][0]["name"] == "Macbeth"


def test_json_errors_stay_one_line(home):
    result = runner.invoke(app, ["personas", "import", str(FIXTURES / "nope.json"), "--json"])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("error: cannot read card") and result.stderr.count("\n") == 1
