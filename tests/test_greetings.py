"""Greetings: `stage` prints turn 0 (a card's greeting or the play's opening) and counts
it in its footer; `chat` opens with a card's greeting; `--greeting N` picks an alternate."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from chat_helpers import new_chat_app, settle, transcript_lines
from typer.testing import CliRunner

from dramatis.agents.fake_backend import FakeModel
from dramatis.cli import app
from dramatis.core.errors import DramatisError
from dramatis.personas.card_store import CardStore, import_card
from dramatis.tui.session import ChatOptions, new_spec

CARDS = Path(__file__).parent / "fixtures" / "cards"
YORICK = json.loads((CARDS / "yorick_v2.json").read_text())["data"]


def speeches(output: str) -> list[str]:
    """The speech lines `stage` printed ("NAME: text")."""
    return [line for line in output.splitlines() if re.match(r"[A-Z][A-Z' ]+: ", line)]


def stage(home: Path, *args: str):
    return CliRunner().invoke(
        app, ["stage", "--model", "fake", "--home", str(home), "--out", str(home / "run"), *args]
    )


def footer_count(output: str) -> int:
    return int(re.search(r"(\d+) turns · transcript", output)[1])


@pytest.fixture
def yorick_home(tmp_path) -> Path:
    import_card(CARDS / "yorick_v2.json", CardStore(tmp_path))
    return tmp_path


def test_stage_prints_the_cards_greeting_as_turn_0_and_counts_it(yorick_home):
    run = stage(yorick_home, "--cast", "Yorick", "--turns", "3")
    assert run.exit_code == 0, run.output
    said = speeches(run.output)
    greeting = " ".join(YORICK["first_mes"].replace("{{user}}", "User").split())
    assert said[0].startswith("YORICK: ") and greeting[:40] in " ".join(said[0].split())
    assert "(the card's greeting)" in said[0]
    assert len(said) == footer_count(run.output) == 4  # the greeting and 3 new turns
    saved = (yorick_home / "run" / "transcript.jsonl").read_text().splitlines()
    assert len(saved) == 4 and json.loads(saved[0])["source"] == "card"


def test_greeting_n_picks_an_alternate_and_bad_ones_are_one_line(yorick_home):
    run = stage(yorick_home, "--cast", "Yorick", "--turns", "1", "--greeting", "1")
    assert run.exit_code == 0, run.output
    alternate = YORICK["alternate_greetings"][0].replace("{{user}}", "User")
    assert " ".join(alternate.split())[:30] in " ".join(speeches(run.output)[0].split())
    count = len(YORICK["alternate_greetings"])
    bad = stage(yorick_home, "--cast", "Yorick", "--turns", "1", "--greeting", str(count + 1))
    assert bad.exit_code != 0 and f"greetings 0 to {count}" in bad.output
    assert "Traceback" not in bad.output
    nobody = stage(yorick_home, "--cast", "Hamlet", "--turns", "1", "--greeting", "0")
    assert nobody.exit_code != 0 and "no one in the cast has a card" in nobody.output
    both = stage(yorick_home, "--cast", "Yorick", "--scene", "hamlet:5.1", "--greeting", "1")
    assert both.exit_code != 0 and "leave out --scene" in both.output


def test_stage_with_a_scene_prints_the_plays_opening_lines(tmp_path):
    run = stage(tmp_path, "--cast", "Hamlet,Horatio", "--scene", "hamlet:1.1", "--turns", "2")
    assert run.exit_code == 0, run.output
    said = speeches(run.output)
    assert said[0].startswith("BERNARDO: Who's there?") and "(from the play)" in said[0]
    assert len(said) == footer_count(run.output) == 6  # four opening speeches + 2


def test_chat_opens_with_the_cards_greeting_or_the_one_chosen(yorick_home):
    spec, opening = new_spec(ChatOptions(cast="Yorick", home=yorick_home))
    assert [t["speaker"] for t in opening] == ["Yorick"] and opening[0]["source"] == "card"
    assert opening[0]["present"] == ["Yorick", "You"]
    anna = new_spec(ChatOptions(cast="Yorick", home=yorick_home, name="Anna"))[1][0]["text"]
    assert "{{user}}" in YORICK["first_mes"] and "Anna" in anna and "User" not in anna
    _, second = new_spec(ChatOptions(cast="Yorick", home=yorick_home, greeting=1))
    assert second[0]["text"] != opening[0]["text"]
    with pytest.raises(DramatisError, match="greetings 0 to"):
        new_spec(ChatOptions(cast="Yorick", home=yorick_home, greeting=50))
    _, plain = new_spec(ChatOptions(cast="Hamlet,Horatio", home=yorick_home))
    assert plain == []  # play characters have no greeting


@pytest.mark.asyncio
async def test_the_chat_app_shows_the_greeting_first(yorick_home, monkeypatch):
    monkeypatch.setenv("DRAMATIS_HOME", str(yorick_home))  # where the card was imported
    app = new_chat_app(yorick_home, FakeModel(["Alas."]), cast="Yorick")
    async with app.run_test(size=(110, 30)) as pilot:
        await settle(app, pilot)
        lines = transcript_lines(app)
        assert len(lines) == 1 and lines[0].startswith("YORICK: ")
        assert app.session.turns()[0]["source"] == "card"
