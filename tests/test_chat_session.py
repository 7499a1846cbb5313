"""The chat's non-UI parts: options -> spec, the session's commands, slash parsing."""

import pytest

from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.scene_store import SceneStore
from dramatis.core.errors import DramatisError
from dramatis.core.settings import Settings
from dramatis.tui.commands import Command, complete, parse_command
from dramatis.tui.session import ChatOptions, ChatSession, new_spec, open_chat


def start(tmp_path, **options) -> ChatSession:
    settings = Settings(home=tmp_path).ensure()
    spec, opening = new_spec(ChatOptions(**options))
    return ChatSession.start(spec, opening, SceneStore(settings.scenes_db), settings, FakeModel())


def test_joining_as_a_character_leaves_them_to_the_person(tmp_path):
    session = start(tmp_path, cast="Hamlet,Horatio", human="hamlet")
    assert session.spec.cast == ["Horatio"] and session.human == "Hamlet"
    assert list(session.scene.agents) == ["Horatio"]
    turn = session.say("Horatio, or I do forget myself.")
    assert turn["speaker"] == "Hamlet" and turn["source"] == "human"
    assert session.replies(turn) == 1
    with pytest.raises(DramatisError, match="nobody but you"):
        new_spec(ChatOptions(cast="Hamlet", human="Hamlet"))


def test_a_scene_from_the_play_opens_with_its_lines(tmp_path):
    session = start(tmp_path, cast="Hamlet", scene="hamlet:1.2")
    turns = session.turns()
    assert turns and {t["source"] for t in turns} == {"play"}
    assert turns[0]["speaker"] == "Claudius" and "Elsinore" in session.spec.setting


def test_session_commands_and_their_errors(tmp_path):
    session = start(tmp_path, cast="Hamlet")
    with pytest.raises(DramatisError, match="nothing to undo"):
        session.undo()
    with pytest.raises(DramatisError, match="nothing to say"):
        session.say("   ")
    assert session.invite("ophelia") == "Ophelia"
    with pytest.raises(DramatisError, match="already here"):
        session.invite("Ophelia")
    with pytest.raises(DramatisError, match="is you"):
        session.invite("you")
    assert session.dismiss("hamlet") == "Hamlet"
    rows = {r.name: r.present for r in session.cast_rows()}
    assert rows == {"You": True, "Hamlet": False, "Ophelia": True}
    with pytest.raises(DramatisError, match="use resume"):
        settings = Settings(home=tmp_path)
        store = SceneStore(settings.scenes_db)
        store.save(session.spec.model_copy(update={"thread_id": "staged", "human": None}))
        open_chat("staged", store, settings, FakeModel())


def test_slash_commands_parse_and_complete():
    assert parse_command("hello /there") is None
    assert parse_command("/Invite  Lady   Macbeth") == Command("invite", "Lady Macbeth")
    assert parse_command("/undo") == Command("undo", "")
    assert complete("/re", []) == "/retry "
    assert complete("/dismiss lady", ["Hamlet", "Lady Macbeth"]) == "/dismiss Lady Macbeth"
    assert complete("/undo x", ["Xerxes"]) is None
    assert complete("hello", ["Hamlet"]) is None


def test_scenes_lists_chats_and_chat_refuses_bad_input(tmp_path):
    from typer.testing import CliRunner

    from dramatis.cli import app

    session = start(tmp_path, cast="Hamlet,Horatio", human="Hamlet")
    runner = CliRunner()
    listed = runner.invoke(app, ["scenes", "--home", str(tmp_path)])
    assert f"{session.thread_id}\tchat as Hamlet\tHoratio\t" in listed.output
    missing = runner.invoke(app, ["chat", "--home", str(tmp_path), "--resume", "chat-nope"])
    assert missing.exit_code == 2 and "no scene with thread id 'chat-nope'" in missing.output
    empty = runner.invoke(app, ["chat", "--home", str(tmp_path)])
    assert empty.exit_code == 2 and "--cast" in empty.output
