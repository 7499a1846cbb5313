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
    asked = Asked()

    def fake(name, settings, cfg, *, play=None, progress=None, log=print, voice_scale=None):
        asked.append((name, play))
        asked.scales.append(voice_scale)
        if name.endswith("Nobody"):
            raise DramatisError("no character 'Nobody' in hamlet")
        progress(1, 1, 2.5, 0.1)
        worse = name.endswith("Overfit")
        voice = {"name": "v", "sha256": "0" * 64, "scale": voice_scale} if voice_scale else None
        meta = SimpleNamespace(
            character=name, version=1, steps=1, stopped_by="steps",
            ppl_before=30.0, ppl_after=45.0 if worse else 20.0,
            voice=voice, metrics={"ppl_bare": 50.0} if voice else {},
        )  # fmt: skip
        return SimpleNamespace(name=f"{name}@v1", meta=meta)

    monkeypatch.setattr("dramatis.training.pipeline.train_character", fake)
    return asked


class Asked(list):
    """(name, play) per character trained, and `scales`: the voice scale each was given."""

    def __init__(self) -> None:
        super().__init__()
        self.scales: list[float | None] = []


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


def test_voice_scale_reaches_every_character_and_the_outcome_names_the_voice(trained):
    result = runner.invoke(
        app, ["train", "hamlet:Horatio", "hamlet:Hamlet", "--voice-scale", "0.5"]
    )
    assert result.exit_code == 0, result.output
    assert trained.scales == [0.5, 0.5]
    said = " ".join(result.output.split())
    assert "on the stage voice at 0.5: the voice alone -> voice + adapter; bare base 50.00" in said


def test_no_voice_scale_leaves_the_default_to_the_pipeline(trained):
    result = runner.invoke(app, ["train", "hamlet:Horatio"])
    assert result.exit_code == 0 and trained.scales == [None]
    assert "stage voice" not in result.output


@pytest.mark.parametrize("extra", [["--stage-voice"], ["hamlet:Horatio", "--dpo"]])
def test_voice_scale_is_refused_where_it_means_nothing(trained, extra):
    result = runner.invoke(app, ["train", *extra, "--voice-scale", "1"])
    assert result.exit_code == 2 and "drop --voice-scale" in result.output
    assert trained == []
