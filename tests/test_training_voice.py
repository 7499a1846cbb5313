"""The stage voice's data: many characters of many plays, prompted as served, whole plays
held out for validation; and its command line."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from dramatis.cli import app
from dramatis.core.errors import DramatisError
from dramatis.personas import load_play
from dramatis.training.dataset import DataConfig
from dramatis.training.voice import (
    STAGE_VOICE,
    VoiceConfig,
    build_voice_dataset,
    chosen_plays,
    held_out,
    top_speakers,
)


def words(text: str) -> int:
    return len(text.split())


def test_plays_are_chosen_and_held_out_by_name():
    known = ["hamlet", "lear", "macbeth", "othello"]
    assert chosen_plays(VoiceConfig(exclude=("hamlet",)), known) == ["lear", "macbeth", "othello"]
    assert chosen_plays(VoiceConfig(plays=("othello", "lear")), known) == ["lear", "othello"]
    with pytest.raises(DramatisError, match="unknown play 'hamlett'.*hamlet, lear"):
        chosen_plays(VoiceConfig(exclude=("hamlett",)), known)
    with pytest.raises(DramatisError, match="at least 2 plays"):
        chosen_plays(VoiceConfig(plays=("lear",)), known)
    assert held_out(["a", "b", "c"], 8) == ["c"]
    assert held_out(["a", "b", "c", "d"], 2) == ["b", "d"]
    assert held_out(["a", "b"], 1) == ["a"]  # never every play


def test_top_speakers_are_the_named_characters_who_speak_most():
    speakers = top_speakers(load_play("macbeth"), 2, 4)
    assert [name for name, _ in speakers] == ["Macbeth", "Macduff"]  # 4+ words
    play = load_play("macbeth")
    by_index = {s.index: s for s in play.speeches()}
    for name, indices in speakers:
        assert all(by_index[i].speaker == name and words(by_index[i].text) >= 4 for i in indices)


def test_voice_dataset_holds_out_whole_plays_and_prompts_as_served():
    cfg = VoiceConfig(plays=("macbeth", "lear", "tempest"), speakers=2, per_speaker=3, val_every=3)
    data = build_voice_dataset(cfg, DataConfig(history_tokens=120), words)
    assert data.character == STAGE_VOICE and data.val_scenes == ["tempest"]
    assert len(data.train) == 2 * 2 * 3 and len(data.val) == 2 * 3
    train_speakers = {e.speaker for e in data.train}
    assert {"Macbeth", "Lear"} <= train_speakers and "Prospero" not in train_speakers
    assert {e.speaker for e in data.val} == {"Prospero", "Stephano"}
    for e in data.train + data.val:
        assert e.prompt.rstrip().endswith(f"{e.speaker.upper()}:")  # a page, as served
        assert e.target not in e.prompt and words(e.target) >= cfg.min_words
    again = build_voice_dataset(cfg, DataConfig(history_tokens=120), words)
    assert [e.target for e in again.train] == [e.target for e in data.train]  # seeded


def test_train_stage_voice_rejects_names_and_unknown_plays(tmp_path):
    runner = CliRunner()
    home = str(tmp_path / "home")
    out = runner.invoke(app, ["train", "--stage-voice", "Hamlet", "--home", home])
    assert out.exit_code != 0 and "--stage-voice trains the shared voice alone" in out.output
    out = runner.invoke(
        app, ["train", "--stage-voice", "--voice-exclude", "hamlett", "--home", home]
    )
    assert out.exit_code != 0 and "unknown play 'hamlett'" in out.output
    assert "Traceback" not in out.output
