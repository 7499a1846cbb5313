"""`dramatis train`: what it trains, its summary, and its errors (training itself faked:
tests/test_training_tiny.py and the slow end-to-end test run the real thing)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from dramatis.cli import app
from dramatis.core.errors import DramatisError
from dramatis.personas.cast import DEFAULT_MEMBERS

runner = CliRunner()


@pytest.fixture
def trained(monkeypatch, home):
    """Replace the training run; record who was asked for, fail for "Nobody"."""
    asked: list[tuple[str, str | None]] = []

    def fake(name, settings, cfg, *, play=None, progress=None, log=print):
        asked.append((name, play))
        if name.endswith("Nobody"):
            raise DramatisError("no character 'Nobody' in hamlet")
        progress(1, 1, 2.5, 0.1)
        worse = name.endswith("Overfit")
        meta = SimpleNamespace(
            character=name, version=1, steps=1, stopped_by="steps",
            ppl_before=30.0, ppl_after=45.0 if worse else 20.0,
        )  # fmt: skip
        return SimpleNamespace(name=f"{name}@v1", meta=meta)

    monkeypatch.setattr("dramatis.training.pipeline.train_character", fake)
    return asked


def test_default_cast_trains_every_member_with_its_play(trained):
    result = runner.invoke(app, ["train", "--default-cast", "--steps", "1"])
    assert result.exit_code == 0, result.output
    expected = [f"{play}:{n}" for play, names in DEFAULT_MEMBERS.items() for n in names]
    assert trained == [(name, None) for name in expected] and len(expected) == 10
    assert "10 of 10 trained" in result.output


def test_a_failed_character_is_summed_up_and_the_others_go_on(trained):
    result = runner.invoke(app, ["train", "hamlet:Nobody", "hamlet:Horatio"])
    assert result.exit_code == 2
    assert [name for name, _ in trained] == ["hamlet:Nobody", "hamlet:Horatio"]
    assert "1 of 2 trained" in result.output and "hamlet:Horatio@v1" in result.output
    assert "1 character(s) failed: hamlet:Nobody" in result.output


def test_one_failed_character_is_just_its_error(trained):
    result = runner.invoke(app, ["train", "Nobody", "--play", "hamlet"])
    assert result.exit_code == 2 and trained == [("Nobody", "hamlet")]
    assert "error: no character 'Nobody' in hamlet" in result.output
    assert "trained in" not in result.output


def test_nothing_to_train_is_an_error(trained):
    result = runner.invoke(app, ["train"])
    assert result.exit_code == 2 and "pass --default-cast" in result.output


def test_a_version_worse_than_the_base_is_kept_but_not_active(trained):
    result = runner.invoke(app, ["train", "hamlet:Overfit"])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "worse than the base: kept, not active" in said
    assert "dramatis adapters activate 'hamlet:Overfit' v1" in said
