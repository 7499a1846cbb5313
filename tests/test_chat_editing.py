"""Chat editing (dramatis/tui/session.py, app.py): swipes over a retried reply's versions,
editing an earlier line of yours and going on from it, browsing and switching branches.
Real LangGraph + SQLite checkpoints under a fake model; the app through Textual's Pilot."""

from __future__ import annotations

import pytest
from chat_helpers import new_chat_app, reopened_app, settle, transcript_lines

from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.scene_store import SceneStore
from dramatis.core.errors import DramatisError
from dramatis.core.settings import Settings
from dramatis.tui.app import branch_list, edit_text
from dramatis.tui.commands import COMMANDS, help_text
from dramatis.tui.session import ChatOptions, ChatSession, new_spec, open_chat
from dramatis.tui.widgets import ChatInput


def start(tmp_path, model) -> ChatSession:
    settings = Settings(home=tmp_path, n_threads=1).ensure()
    spec, opening = new_spec(ChatOptions(cast="Horatio"), thread_id="chat-edit")
    return ChatSession.start(spec, opening, SceneStore(settings.scenes_db), settings, model)


def said(session: ChatSession) -> list[str]:
    return [t["text"] for t in session.turns()]


def test_swipes_browse_a_retried_replys_versions_and_keep_one(tmp_path):
    session = start(tmp_path, FakeModel(["First answer.", "Second answer.", "Third answer."]))
    list(session.run(session.replies(session.say("Horatio?"))))
    list(session.retry())
    list(session.retry())
    assert said(session) == ["Horatio?", "Third answer."]
    swipes = session.swipes()
    assert (
        swipes.texts == ("First answer.", "Second answer.", "Third answer.") and swipes.shown == 2
    )
    assert session.swipe(1) is None  # past the newest: the caller draws another
    assert session.swipe(-2).shown == 0 and said(session) == ["Horatio?", "First answer."]
    with pytest.raises(DramatisError, match="first version"):
        session.swipe(-1)
    session.swipe(1)
    # the choice is a checkpoint: a reopened chat goes on from it
    settings = Settings(home=tmp_path, n_threads=1)
    again = open_chat("chat-edit", SceneStore(settings.scenes_db), settings, FakeModel())
    assert said(again) == ["Horatio?", "Second answer."] and again.swipes().shown == 1
    session.say("And now?")
    with pytest.raises(DramatisError, match="no reply to swipe"):
        session.swipes()


def test_edit_an_earlier_line_and_go_on_from_it(tmp_path):
    model = FakeModel(["Here, my lord.", "The night is cold.", "Aye, Elsinore."])
    session = start(tmp_path, model)
    list(session.run(session.replies(session.say("Horatio?"))))
    list(session.run(session.replies(session.say("Is it cold?"))))
    assert said(session) == ["Horatio?", "Here, my lord.", "Is it cold?", "The night is cold."]
    assert session.my_line()["index"] == 2
    events = list(session.edit(0, "Where are we?"))
    assert [e["text"] for e in events if isinstance(e, dict)][:1] == ["Where are we?"]
    assert said(session) == ["Where are we?", "Aye, Elsinore."]
    with pytest.raises(DramatisError, match="turn 1 is not a line of yours"):
        session.my_line(1)
    with pytest.raises(DramatisError, match="needs the new line"):
        list(session.edit(0, "  "))
    # both lines are branches; the old one can be taken up again
    rows = session.branches()
    assert [(b.number, b.current, b.turns) for b in rows] == [(1, False, 4), (2, True, 2)]
    assert rows[0].parts_at == 0 and rows[0].last == "HORATIO: The night is cold."
    branch = session.switch_branch(1)
    assert branch.number == 1 and said(session)[-1] == "The night is cold."
    assert [b.current for b in session.branches()] == [True, False]  # numbers stay
    with pytest.raises(DramatisError, match="no branch 9"):
        session.switch_branch(9)


def test_commands_are_in_help_and_parse():
    assert {"swipe", "edit", "branches", "branch"} <= set(COMMANDS)
    assert "/edit [N] [TEXT]" in help_text() and "/branches" in help_text()
    assert edit_text("4 Good morrow.") == (4, "Good morrow.") and edit_text("Hi") == (None, "Hi")


@pytest.mark.asyncio
async def test_the_app_edits_swipes_and_switches_branches(tmp_path):
    model = FakeModel(["Here, my lord.", "Again, my lord.", "At your service."])
    app = new_chat_app(tmp_path, model, cast="Horatio")
    async with app.run_test(size=(110, 30)) as pilot:
        await settle(app, pilot)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Swipe", "Edit", "Branches", "Branch"} <= titles  # in the palette
        box = app.query_one(ChatInput)
        box.value = "Horatio?"
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        assert transcript_lines(app)[-1] == "HORATIO: Again, my lord."
        await pilot.press("alt+left")
        await settle(app, pilot)
        lines = transcript_lines(app)
        assert "HORATIO: Here, my lord." in lines and "reply 1 of 2" in lines[-1]
        await pilot.press("f2")  # your last line, in the input to change
        await pilot.pause(0.1)
        assert box.value == "/edit 0 Horatio?"
        box.value = "/edit 0 Who goes there?"
        await pilot.press("enter")
        await settle(app, pilot)
        assert transcript_lines(app) == ["YOU: Who goes there?", "HORATIO: At your service."]
        box.value = "/branches"
        await pilot.press("enter")
        await settle(app, pilot)
        listing = transcript_lines(app)[-1]
        assert "▶ 3: 2 turns" in listing and "1: 2 turns, parts at turn 0" in listing
        box.value = "/branch 1"
        await pilot.press("enter")
        await settle(app, pilot)
        assert transcript_lines(app)[:2] == ["YOU: Horatio?", "HORATIO: Here, my lord."]
    reopened = reopened_app(tmp_path, FakeModel())
    async with reopened.run_test(size=(110, 30)) as pilot:
        await settle(reopened, pilot)
        assert transcript_lines(reopened) == ["YOU: Horatio?", "HORATIO: Here, my lord."]


def test_branch_list_marks_the_shown_one():
    from dramatis.tui.session import Branch

    text = branch_list([Branch(1, 2, 2, "YOU: Hi", True), Branch(2, 4, 1, "HORATIO: Aye.", False)])
    assert text.splitlines()[1:] == [
        "▶ 1: 2 turns · YOU: Hi",
        "  2: 4 turns, parts at turn 1 · HORATIO: Aye.",
    ]


@pytest.fixture(scope="module")
def smollm2_1t():
    from dramatis.agents.catalog import resolve_model
    from dramatis.agents.llama_backend import LlamaCppModel

    return LlamaCppModel(resolve_model("smollm2", cache_dir=None), n_threads=1, seed=0)


@pytest.mark.slow
@pytest.mark.asyncio
async def test_swipe_edit_and_branches_on_the_real_model(tmp_path, smollm2_1t):
    """The same keys and commands in the app on the real bundled model (llama.cpp, one
    thread, short replies): a retried reply is swiped back to its first version, which
    stays after a reopen; an edited line gets a new reply and a branch of its own."""
    app = new_chat_app(tmp_path, smollm2_1t, cast="Horatio", max_tokens=12)
    async with app.run_test(size=(110, 30)) as pilot:
        await settle(app, pilot, seconds=180)
        box = app.query_one(ChatInput)
        box.value = "Horatio, what news?"
        await pilot.press("enter")
        await settle(app, pilot, seconds=300)
        first = app.session.turns()[-1]["text"]
        await pilot.press("ctrl+r")
        await settle(app, pilot, seconds=300)
        assert app.session.swipes().texts[0] == first and len(app.session.swipes().texts) == 2
        await pilot.press("alt+left")
        await settle(app, pilot)
        lines = transcript_lines(app)
        assert app.session.turns()[-1]["text"] == first and "reply 1 of 2" in lines[-1]
        box.value = "/edit 0 Who goes there?"
        await pilot.press("enter")
        await settle(app, pilot, seconds=300)
        turns = app.session.turns()
        assert [t["text"] for t in turns][:1] == ["Who goes there?"] and len(turns) == 2
        assert turns[1]["speaker"] == "Horatio" and turns[1]["source"] in ("model", "fallback")
        # three branches: the first reply, its retry, the edited line (shown)
        assert [b.current for b in app.session.branches()] == [False, False, True]
        box.value = "/branch 1"
        await pilot.press("enter")
        await settle(app, pilot)
        assert [t["text"] for t in app.session.turns()] == ["Horatio, what news?", first]
    reopened = reopened_app(tmp_path, smollm2_1t)
    async with reopened.run_test(size=(110, 30)) as pilot:
        await settle(reopened, pilot, seconds=180)
        assert [t["text"] for t in reopened.session.turns()] == ["Horatio, what news?", first]
