"""`dramatis arena score` on a real SmolLM2 transcript (tests/data/arena_run)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from dramatis.cli import app

RUN = Path(__file__).parent / "data" / "arena_run"


def test_score_writes_scores_json(tmp_path: Path) -> None:
    run = tmp_path / "runs" / "one"
    shutil.copytree(RUN, run)
    result = CliRunner().invoke(app, ["arena", "score", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    scores = json.loads((tmp_path / "runs" / "scores.json").read_text())
    values = scores["runs"][0]["values"]
    assert values["turns"] == 12
    assert values["in_world"] < 0.5  # this SmolLM2 chat-format scene mostly narrates
    assert 0.0 <= values["attribution_balanced"] <= 1.0
    assert "rouge_l" in values and "next_speaker" in values
    configs = {
        "smollm2/auto/base/addressed",
        *(f"baseline:{b}" for b in ("script", "retrieval", "swap", "random")),
    }
    assert set(scores["summary"]) == configs
    assert (tmp_path / "runs" / "baselines" / "swap" / "one" / "transcript.jsonl").is_file()


def test_score_names_a_missing_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["arena", "score", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_score_names_a_broken_transcript(tmp_path: Path) -> None:
    (tmp_path / "transcript.jsonl").write_text('{"speaker": "Hamlet"}\n')
    result = CliRunner().invoke(app, ["arena", "score", str(tmp_path)])
    assert result.exit_code == 2
    assert "transcript.jsonl:1" in result.output
