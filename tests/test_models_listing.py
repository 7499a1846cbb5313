"""`dramatis models`: each bundled model's file, where it is and whether it is there;
`resolve_model` with no cache folder uses the settings' one."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from dramatis.agents.catalog import BUNDLED, bundled_file, resolve_model
from dramatis.cli import app

runner = CliRunner()


def models_json() -> dict[str, dict]:
    result = runner.invoke(app, ["models", "--json"])
    assert result.exit_code == 0, result.output
    return {row["name"]: row for row in json.loads(result.stdout)}


def test_models_json_says_where_each_file_is(home):
    rows = models_json()
    assert list(rows) == list(BUNDLED)
    smollm2 = rows["smollm2"]  # ships whole inside its package
    assert smollm2["present"] and smollm2["path"].endswith("SmolLM2-135M-Instruct.Q4_1.gguf")
    gemma = rows["gemma3-270m"]  # made in this home's cache on first use
    assert gemma["path"] == str(home / "cache" / "gemma-3-270m-q4_k_m.gguf")
    assert gemma["installed"] and not gemma["present"]
    (home / "cache").mkdir(parents=True)
    (home / "cache" / "gemma-3-270m-q4_k_m.gguf").write_bytes(b"GGUF")
    assert models_json()["gemma3-270m"]["present"]
    text = runner.invoke(app, ["models"]).stdout.splitlines()
    assert text[1].startswith("gemma3-270m\t") and text[1].endswith("gguf (present)")


def test_models_text_names_what_is_missing(home):
    path, _ = bundled_file("gemma3-270m", home / "cache")
    lines = runner.invoke(app, ["models"]).stdout.splitlines()
    assert f"{path} (made on first use)" in lines[1]
    assert lines[2].startswith("qwen1.5b\t")
    assert "(present)" in lines[2] or "(missing: run `make large-model`)" in lines[2]


def test_resolve_model_without_a_cache_folder(home):
    """resolve_model("gemma3-270m", None) was a TypeError; now the settings' cache."""
    made = home / "cache" / "gemma-3-270m-q4_k_m.gguf"
    made.parent.mkdir(parents=True)
    made.write_bytes(b"GGUF")  # as if made before: nothing is assembled here
    assert resolve_model("gemma3-270m", None) == made
    assert resolve_model("smollm2") == resolve_model("smollm2", home / "cache")
