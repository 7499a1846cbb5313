"""Cards a reader recognises, cut at a scene: real plays, the real memory graph, V2/V3."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from dramatis.cli import app
from dramatis.core.errors import DramatisError
from dramatis.memory.seed import horizon_after, seed_graph
from dramatis.personas import load_play
from dramatis.personas.cards import check_card
from dramatis.personas.model import Speech
from dramatis.personas.reader import greeting, other_names, reader_view, speech_style
from dramatis.reader_cards import scene_card


def speech(text: str, speaker: str = "A") -> Speech:
    return Speech(speaker, text, 1, 1, 0, (speaker,))


def test_card_at_hamlet_1_2_holds_nothing_from_later_scenes():
    play = load_play("hamlet")
    card = json.dumps(scene_card("hamlet:1.2", "Hamlet"))
    whole = json.dumps(scene_card("hamlet:5.2", "Hamlet"))
    after = [s for s in play.speeches() if (s.act, s.scene) > (1, 2)]
    before = [s for s in play.speeches() if (s.act, s.scene) <= (1, 2)]
    later_lines = {line for s in after if s.speaker == "Hamlet" for line in s.lines}
    early_lines = {line for s in before for line in s.lines}
    only_later = [line for line in later_lines - early_lines if len(line) > 25]
    assert only_later and not [line for line in only_later if json.dumps(line)[1:-1] in card]
    assert [line for line in only_later if json.dumps(line)[1:-1] in whole]  # the check bites
    for name in ("Ophelia", "Rosencrantz", "Guildenstern"):  # first speak after 1.2
        assert name not in card
    assert "Guildenstern" in whole
    assert "up to scene 1.2" in card


def test_greeting_is_an_entrance_line_addressed_to_no_one_by_name():
    play = load_play("hamlet")
    names = other_names(play, "Hamlet")
    for until in ("1.2", None):
        said = greeting(play, "Hamlet", until)
        assert said and not {w.strip(",.!?;:").lower() for w in said.split()} & names.keys()
        assert "Horatio" not in said
        firsts = {" ".join(s.lines) for sc in play.scenes() for s in sc.speeches[:]}
        assert any(said in f for f in firsts)
    assert scene_card("hamlet:1.2", "Hamlet")["data"]["first_mes"] == greeting(
        play, "Hamlet", "1.2"
    )


@pytest.mark.parametrize("v3", [False, True])
def test_card_fields_filled_for_v2_and_v3(v3):
    card = scene_card("henry_iv_part_1:5.4", "Hal", v3=v3)
    checked = check_card(json.loads(json.dumps(card)), "hal.json")
    data = checked["data"]
    assert data["name"] == "Prince Henry"
    assert "son to King Henry the Fourth" in data["description"]  # a tie, from the graph
    assert "Speaks mostly" in data["personality"] and "Wants" in data["personality"]
    assert "5.4" in data["scenario"] and data["first_mes"]
    reader = data["extensions"]["dramatis_reader"]
    assert reader["until"] == "5.4" and reader["ties"] and reader["style"]["lines_per_speech"] > 0
    assert card["spec"] == ("chara_card_v3" if v3 else "chara_card_v2")


def test_speech_style_measures_verse_prose_and_address():
    verse = [
        speech("O that this too too solid flesh\nWould melt, thaw, resolve itself\nInto a dew!")
    ]
    prose = [
        speech("I pray thee, Hal, tell me\nwhat time of day it is, for thou\nknowest, sir, thou.")
    ]
    names = {"hal": "Prince Henry"}
    v, p = speech_style(verse, names), speech_style(prose, names)
    assert v.verse_share == 1.0 and p.verse_share == 0.0
    assert "verse" in v.describe() and "prose" in p.describe()
    assert p.address["thou"] == 3 and p.address["sir"] == 1
    assert p.names_addressed == [("Prince Henry", 1)] and "calls on Prince Henry" in p.describe()
    assert v.lines_per_speech == 3.0


def test_reader_view_stops_at_the_horizon():
    play = load_play("macbeth")
    early = reader_view(play, "Macbeth", "1.3")
    assert [d.split(":")[0] for d in early.doings] == ["1.3"]
    assert len(reader_view(play, "Macbeth").doings) > 10


def test_memory_graph_uses_the_same_identities_as_the_personas():
    play = load_play("henry_iv_part_1")
    graph = seed_graph(play, horizon_after("1.2"))
    assert "Prince Henry" in graph.g and "Hotspur" in graph.g
    assert "Henry" not in graph.g  # the old split name is gone
    view = reader_view(play, "Hal", "1.2")
    assert view.name == "Prince Henry"


def test_card_command_writes_refuses_overwrite_and_explains_bad_input(tmp_path):
    runner = CliRunner()
    out = tmp_path / "hamlet.json"
    ok = runner.invoke(app, ["personas", "card", "Hamlet", "--at", "hamlet:1.2", "--out", str(out)])
    assert ok.exit_code == 0, ok.output
    assert json.loads(out.read_text())["data"]["name"] == "Hamlet"
    again = runner.invoke(
        app, ["personas", "card", "Hamlet", "--at", "hamlet:1.2", "--out", str(out)]
    )
    assert again.exit_code != 0 and "--force" in again.output
    for bad, says in [("hamlet", "PLAY:SCENE"), ("hamlet:9.9", "valid: 1.1")]:
        result = runner.invoke(app, ["personas", "card", "Hamlet", "--at", bad, "--out", "-"])
        assert result.exit_code != 0 and says in result.output and "Traceback" not in result.output
    with pytest.raises(DramatisError, match="never speaks in hamlet by scene 1.2"):
        scene_card("hamlet:1.2", "Ophelia")


def test_exported_hamlet_card_greets_no_one_by_name(tmp_path):
    from dramatis.personas.card_export import export_persona
    from dramatis.personas.cast import find_persona

    hamlet = find_persona("Hamlet")
    path = export_persona(hamlet, "json", v3=False, out=tmp_path / "h.json", home=tmp_path)
    first = json.loads(path.read_text())["data"]["first_mes"]
    names = other_names(load_play("hamlet"), "Hamlet")
    assert first and "Horatio" not in first
    assert not {w.strip(",.!?;:-").lower() for w in first.split()} & names.keys()
