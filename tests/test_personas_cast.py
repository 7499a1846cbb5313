"""Personas, the shipped default cast, and the `play` / `personas` CLI sub-apps."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from dramatis.core.errors import DramatisError
from dramatis.personas import build_persona, find_persona, load_cast, load_play
from dramatis.personas.build_cast import DEFAULT_MEMBERS, build_default_cast
from dramatis.personas.cast import DEFAULT_CAST
from dramatis.personas.cli import personas_app, play_app

runner = CliRunner()


def test_build_persona_hamlet():
    persona = build_persona(load_play("hamlet"), "hamlet")
    assert persona.name == "Hamlet" and persona.play == "hamlet"
    assert persona.description.startswith("son to the former King of Denmark")
    assert persona.first_scene == "1.2" and persona.last_scene == "5.2"
    assert persona.n_speeches > 300 and persona.n_lines > 1000
    assert persona.partners[0][0] == "Horatio" and len(persona.partners) == 5
    assert len(persona.sample_lines) == 8 and all(persona.sample_lines)
    assert "Hamlet, son to the former King of Denmark" in persona.summary()
    assert persona.card() == (
        "Hamlet, son to the former King of Denmark, and nephew to the present King."
    )


def test_cards_stand_alone_and_samples_span_the_play():
    macbeth = load_play("macbeth")
    assert build_persona(macbeth, "Lady Macbeth").card() == "Lady Macbeth, wife to Macbeth."
    assert build_persona(macbeth, "Malcolm").description == "son to Duncan"
    assert build_persona(macbeth, "Young Siward").description == "son to Siward"
    hamlet = load_play("hamlet")
    persona = build_persona(hamlet, "Hamlet")
    acts = {s.text: s.act for s in hamlet.speeches() if s.speaker == "Hamlet"}
    first_four = {acts["\n".join(line for line in t.split("\n"))] for t in persona.sample_lines[:4]}
    assert min(first_four) <= 2 and max(first_four) == 5  # not all from the first half
    for card in (build_persona(hamlet, n).card() for n in ("Hamlet", "Ophelia", "Horatio")):
        assert "Shakespeare" not in card and "speaks" not in card


def test_persona_by_heading_form_and_role():
    assert build_persona(load_play("hamlet"), "King").name == "Claudius"
    assert build_persona(load_play("macbeth"), "lady macbeth").name == "Lady Macbeth"


def test_unknown_character_suggests_closest():
    with pytest.raises(DramatisError, match=r"no character 'Hamlett' in hamlet; did you mean Ham"):
        build_persona(load_play("hamlet"), "Hamlett")


def test_default_cast_is_current():
    """The shipped file is what `python -m dramatis.personas.build_cast` writes today."""
    assert DEFAULT_CAST.read_text(encoding="utf-8") == build_default_cast().to_json()


def test_default_cast_members_and_lookup():
    cast = load_cast()
    assert sorted(cast.personas) == sorted(n for names in DEFAULT_MEMBERS.values() for n in names)
    assert cast.get("lady_macbeth").name == "Lady Macbeth"
    assert cast.get("OPHELIA").play == "hamlet"
    assert cast.get("macbeth:banquo").name == "Banquo"
    with pytest.raises(DramatisError, match="did you mean Horatio"):
        cast.get("Horatius")


def test_bad_cast_file_names_file_and_field(tmp_path):
    bad = tmp_path / "cast.json"
    bad.write_text(json.dumps({"personas": [{"name": "X", "play": "hamlet"}]}))
    with pytest.raises(DramatisError, match=r"cast.json: field personas\.0\.play_title"):
        load_cast(bad)
    bad.write_text("{not json")
    with pytest.raises(DramatisError, match="is not JSON"):
        load_cast(bad)
    with pytest.raises(DramatisError, match="cannot read cast file"):
        load_cast(tmp_path / "missing.json")


def test_find_persona_forms():
    assert find_persona("Hamlet").name == "Hamlet"
    assert find_persona("lear:Fool").name == "Fool"
    assert find_persona("Fool", play="lear").play == "lear"


def test_cli_stats_json():
    result = runner.invoke(play_app, ["stats", "hamlet", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["play"] == "hamlet" and data["acts"] == 5 and data["scenes"] == 20
    assert data["resolved_fraction"] >= 0.99
    assert data["characters"][0]["name"] == "Hamlet" and data["characters"][0]["lines"] > 1000


def test_cli_stats_human_and_unknown_play():
    result = runner.invoke(play_app, ["stats", "macbeth"])
    assert result.exit_code == 0 and "Lady Macbeth" in result.output
    result = runner.invoke(play_app, ["stats", "hamlett"])
    # bare, the sub-app raises; once dramatis.cli has mounted it, it prints `error: ...`
    said = str(result.exception) if isinstance(result.exception, DramatisError) else result.output
    assert result.exit_code != 0 and "unknown play 'hamlett'" in said and "valid plays" in said


def test_cli_show():
    result = runner.invoke(personas_app, ["show", "Hamlet"])
    assert result.exit_code == 0, result.output
    assert "Hamlet" in result.output and "Horatio" in result.output
    result = runner.invoke(personas_app, ["show", "Banquo", "--json"])
    assert json.loads(result.output)["play"] == "macbeth"


def test_cli_list():
    result = runner.invoke(personas_app, ["list", "--json"])
    assert {row["name"] for row in json.loads(result.output)} >= {"Hamlet", "Macduff"}
