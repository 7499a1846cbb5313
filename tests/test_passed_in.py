"""Home, threads and the memory store are passed in from Settings, never read on the side."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dramatis.cli import app
from dramatis.core.settings import Settings
from dramatis.memory.embed import Embedder
from dramatis.memory.settings import MemorySettings

YORICK = Path(__file__).parent / "fixtures" / "cards" / "yorick_v2.json"
runner = CliRunner()


def ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_cards_live_in_the_home_the_command_names(home, tmp_path):
    other = tmp_path / "other"
    said = ok("personas", "import", str(YORICK), "--home", str(other))
    assert (other / "cards" / "yorick.json").is_file() and not (home / "cards").exists()
    assert f"--home {other}" in said  # the hint to stage it names the same home
    assert "Yorick" in ok("personas", "list", "--home", str(other))
    assert "Yorick" not in ok("personas", "list")  # DRAMATIS_HOME: no cards there
    assert ok("personas", "show", "Yorick", "--home", str(other)).startswith("Yorick")
    out = tmp_path / "card.json"
    ok("personas", "export", "Yorick", "--format", "json", "--out", str(out), "--home", str(other))
    assert out.is_file()


def test_stage_finds_a_card_in_its_home_with_the_critic_on(home, tmp_path):
    other = tmp_path / "other"
    ok("personas", "import", str(YORICK), "--home", str(other))
    run = tmp_path / "run"
    args = ["--cast", "Hamlet,card:Yorick", "--model", "fake", "--turns", "2", "--out", str(run)]
    said = ok("stage", *args, "--home", str(other), "--set", "best_of=2")
    assert "YORICK" in said.upper() and (run / "transcript.jsonl").is_file()
    refused = runner.invoke(app, ["stage", *args])  # DRAMATIS_HOME has no such card
    assert refused.exit_code == 2 and "no imported card 'Yorick'" in refused.output


def test_memory_settings_come_from_settings(home, monkeypatch):
    monkeypatch.setenv("DRAMATIS_MEMORY_STORE", "http://localhost:6333")
    settings = Settings.load(n_threads=1)
    ms = MemorySettings.of(settings)
    assert (ms.store, ms.threads, ms.embedder().threads) == ("http://localhost:6333", 1, 1)
    assert MemorySettings.of(settings, store=":memory:").store == ":memory:"  # --store wins
    monkeypatch.delenv("DRAMATIS_MEMORY_STORE")
    assert MemorySettings.of(Settings.load()).store == str(home / "memory" / "store")


def test_embedder_reads_no_environment(monkeypatch):
    default = min(4, os.cpu_count() or 1)
    monkeypatch.setenv("DRAMATIS_THREADS", str(default + 1))
    assert Embedder().threads == default and Embedder(threads=1).threads == 1


def test_stage_threads_reach_the_scene_memory(home, monkeypatch):
    import dramatis.memory.attach as attach
    from dramatis.agents.scene_store import SceneSpec
    from dramatis.staging import scene_memory

    seen: list[MemorySettings] = []
    monkeypatch.setattr(attach, "open_scene_memory", lambda ms, *a, **k: seen.append(ms))
    spec = SceneSpec(thread_id="t", cast=["Hamlet"], setting="A hall.", memory=True)
    scene_memory(spec, [], Settings.load(n_threads=1, memory_store=":memory:"))
    assert (seen[0].threads, seen[0].store) == (1, ":memory:")


@pytest.mark.parametrize("bad", ["two", "-1"])
def test_a_bad_threads_value_is_one_line(bad, monkeypatch):
    monkeypatch.setenv("DRAMATIS_THREADS", bad)
    result = runner.invoke(app, ["memory", "index", "hamlet"])
    assert result.exit_code == 2 and "DRAMATIS_THREADS" in result.output
