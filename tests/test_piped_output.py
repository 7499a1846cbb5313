"""Output piped into another program keeps whole names (dramatis/core/output.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from dramatis.cli import app
from dramatis.core.output import PIPED_WIDTH, piped_width
from dramatis.training.registry import AdapterMeta, AdapterRegistry

RUN = Path(__file__).parent / "data" / "arena_run"


def add_adapter(home: Path, tmp_path: Path, character: str, play: str) -> None:
    staged = tmp_path / f"staged-{character}"
    staged.mkdir()
    meta = AdapterMeta(
        character=character, play=play, base_model="gemma-3-270m-it-Q4_K_M.gguf",
        base_sha256="ab", data_sha256="cd", ppl_before=30.5, ppl_after=21.0, steps=40,
    )  # fmt: skip
    AdapterRegistry(home / "adapters").add(staged, meta)


def test_adapters_list_piped_prints_whole_names(home, tmp_path):
    add_adapter(home, tmp_path, "Ophelia", "hamlet")
    add_adapter(home, tmp_path, "Lady Macbeth", "macbeth")
    out = CliRunner().invoke(app, ["adapters", "list"]).output  # CliRunner: not a terminal
    rows = [line for line in out.splitlines() if "Ophelia" in line or "Lady Macbeth" in line]
    assert len(rows) == 2 and "…" not in out
    assert "gemma-3-270m-it-Q4_K_M" in out and "30.50 -> 21.00" in out


def test_arena_score_through_a_real_pipe_prints_whole_metric_names(home, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(RUN, run)
    env = {**os.environ, "DRAMATIS_HOME": str(home), "COLUMNS": "40"}  # a narrow default
    piped = subprocess.run(
        [sys.executable, "-m", "dramatis", "arena", "score", str(run)],
        capture_output=True, text=True, env=env, timeout=300,  # stdout: a pipe
    )  # fmt: skip
    assert piped.returncode == 0, piped.stderr
    summary = json.loads((run / "scores.json").read_text())["summary"]
    rows = [line.split("│") for line in piped.stdout.splitlines() if line.startswith("│")]
    names = [row[1].strip() for row in rows]
    header = next(line for line in piped.stdout.splitlines() if "metric" in line)
    assert "…" not in piped.stdout and len(summary) >= 2 and len(names) >= 10
    assert all(config in header for config in summary)  # e.g. "smollm2/auto/base/addressed"
    keys = {key for values in summary.values() for key in values}
    assert set(names) <= keys  # each metric's whole name, as scores.json spells it
    assert max(map(len, names)) >= 15  # names that a 40-column table would cut


def test_help_piped_keeps_its_usual_width():
    piped = subprocess.run(
        [sys.executable, "-m", "dramatis", "stage", "--help"],
        stdout=subprocess.PIPE, text=True, timeout=120,
        env={k: v for k, v in os.environ.items() if k != "COLUMNS"},
    )  # fmt: skip
    assert piped.returncode == 0 and max(map(len, piped.stdout.splitlines())) <= 100


def test_piped_width_is_scoped_and_leaves_a_terminal_alone(monkeypatch):
    monkeypatch.setenv("COLUMNS", "33")

    class Pipe:
        def isatty(self) -> bool:
            return False

    monkeypatch.setattr(sys, "stdout", Pipe())
    with piped_width():
        assert os.environ["COLUMNS"] == str(PIPED_WIDTH)
    assert os.environ["COLUMNS"] == "33"

    class Terminal:
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdout", Terminal())
    with piped_width():
        assert os.environ["COLUMNS"] == "33"
