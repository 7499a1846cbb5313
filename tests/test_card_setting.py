"""A scene given no --setting and no play scene is set in its first card character's own
scenario ({{char}} and {{user}} filled), in stage, chat and the prompt command alike
(dramatis/staging.py `cast_setting`); a cast of play characters keeps the default hall."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dramatis.agents.scene_store import SceneStore
from dramatis.cli import app
from dramatis.core.settings import Settings
from dramatis.personas.card_store import CardStore, import_card
from dramatis.staging import cast_personas, cast_setting, default_setting
from dramatis.tui.session import ChatOptions, new_spec

CARDS = Path(__file__).parent / "fixtures" / "cards"
YORICK_AT = "A churchyard near Elsinore at dusk; {user} has just dug Yorick up."
BRIGID_AT = "The harbour at night; Brigid is on her round of lamps."


@pytest.fixture
def home(tmp_path) -> Path:
    """A state folder with Yorick (scenario with {{user}} and {{char}}), Brigid (with
    {{char}}) and Nobody (a copy of Yorick whose scenario is empty) imported."""
    store = CardStore(tmp_path)
    import_card(CARDS / "yorick_v2.json", store)
    import_card(CARDS / "brigid_v3.json", store)
    card = json.loads((CARDS / "yorick_v2.json").read_text())
    card["data"].update(name="Nobody", scenario="  ")
    (tmp_path / "nobody.json").write_text(json.dumps(card))
    import_card(tmp_path / "nobody.json", store)
    return tmp_path


def test_the_first_card_with_a_scenario_sets_the_scene(home):
    def setting(cast: str, user: str = "User") -> str:
        personas = cast_personas(cast.split(","), home)
        return cast_setting(personas, [p.name for p in personas], user)

    assert setting("Yorick") == YORICK_AT.format(user="User")
    assert setting("Yorick", "Anna") == YORICK_AT.format(user="Anna")
    assert setting("Hamlet,Brigid,Yorick") == BRIGID_AT  # the first card in the cast
    assert setting("Nobody,Yorick") == YORICK_AT.format(user="User")  # empty: the next card
    assert setting("Nobody,Hamlet") == default_setting(["Nobody", "Hamlet"])
    assert setting("Hamlet,Ophelia") == default_setting(["Hamlet", "Ophelia"])


def stage(home: Path, *args: str):
    return CliRunner().invoke(
        app, ["stage", "--model", "fake", "--home", str(home), "--out", str(home / "run"),
              "--turns", "1", *args],
    )  # fmt: skip


def saved_setting(home: Path) -> str:
    store = SceneStore(Settings(home=home).scenes_db)
    try:
        return store.load(store.ids()[-1]).setting
    finally:
        store.close()


def test_stage_opens_in_the_cards_scenario_unless_given_a_setting(home):
    run = stage(home, "--cast", "Hamlet,Yorick")
    assert run.exit_code == 0, run.output
    assert saved_setting(home) == YORICK_AT.format(user="User")
    assert YORICK_AT.format(user="User") in " ".join(run.output.split())  # printed too
    given = stage(home, "--cast", "Yorick", "--setting", "A garden.")
    assert given.exit_code == 0, given.output
    assert saved_setting(home) == "A garden."
    played = stage(home, "--cast", "Yorick,Hamlet", "--scene", "hamlet:5.1")
    assert played.exit_code == 0, played.output
    assert "churchyard" in saved_setting(home).lower() and "dug" not in saved_setting(home)


def test_chat_opens_in_the_cards_scenario_with_you_as_user(home):
    spec, _ = new_spec(ChatOptions(cast="Yorick", home=home, name="Anna"))
    assert spec.setting == YORICK_AT.format(user="Anna")
    spec, _ = new_spec(ChatOptions(cast="Yorick", home=home))
    assert spec.setting == YORICK_AT.format(user="You")
    spec, _ = new_spec(ChatOptions(cast="Hamlet", home=home))
    assert spec.setting == default_setting(["Hamlet", "You"])


def prompt(home: Path, *args: str) -> dict:
    run = CliRunner().invoke(app, ["prompt", "--json", "--home", str(home), *args])
    assert run.exit_code == 0, run.output
    return json.loads(run.stdout)  # llama.cpp's log goes to stderr


def test_the_prompt_command_shows_the_cards_scenario_as_the_setting(home):
    row = prompt(home, "--cast", "Brigid,Hamlet", "--speaker", "Hamlet", "--model", "fake")
    assert f"\n{BRIGID_AT}" in row["prompt"] and "A hall in a castle" not in row["prompt"]
    plays = prompt(home, "--cast", "Hamlet,Ophelia", "--speaker", "Hamlet", "--model", "fake")
    assert "A hall in a castle, late at night." in plays["prompt"]


def test_the_prompt_on_the_default_model_is_set_in_the_scenario(home):
    """The real path: the default model (about 2 s to load) counts the prompt's tokens."""
    row = prompt(home, "--cast", "Yorick,Hamlet", "--speaker", "Hamlet")
    assert f"\n{YORICK_AT.format(user='User')}" in row["prompt"]
