"""The chat app through Textual's Pilot, on a fake model (fast) with real LangGraph +
SQLite checkpoints: say, invite/dismiss, undo, retry, stop, resume, completion."""

import pytest
from chat_helpers import new_chat_app, reopened_app, settle, transcript_lines, wait_until
from test_scene_chat_ops import SlowModel

from dramatis.agents.fake_backend import FakeModel
from dramatis.tui.app import KeepOrDiscard
from dramatis.tui.widgets import ChatInput, Transcript


async def type_line(pilot, text: str) -> None:
    """Fill the input and press Enter (typing key by key is tested once, below)."""
    box = pilot.app.query_one(ChatInput)
    box.focus()
    box.value = text
    await pilot.press("enter")


@pytest.mark.asyncio
async def test_say_and_the_named_character_answers(tmp_path):
    app = new_chat_app(tmp_path, FakeModel(["Here, sweet lord."]))
    async with app.run_test(size=(110, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press(*"Horatio, are you there?", "enter")
        await settle(app, pilot)
        lines = transcript_lines(app)
        assert lines == ["YOU: Horatio, are you there?", "HORATIO: Here, sweet lord."]
        assert [(r.name, r.turns) for r in app.rows] == [("You", 1), ("Hamlet", 0), ("Horatio", 1)]
        turns = app.session.turns()
        assert [t["source"] for t in turns] == ["human", "model"]


@pytest.mark.asyncio
async def test_invite_dismiss_and_completion(tmp_path):
    app = new_chat_app(tmp_path, FakeModel(["Good my lord."]))
    async with app.run_test(size=(110, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press(*"/inv")
        await pilot.pause(0.2)
        await pilot.press("tab", *"Oph")
        await pilot.pause(0.2)
        await pilot.press("tab")
        assert app.query_one(ChatInput).value == "/invite Ophelia"
        await pilot.press("enter")
        await settle(app, pilot)
        await type_line(pilot, "/dismiss hamlet")
        await settle(app, pilot)
        assert [(r.name, r.present) for r in app.rows] == [
            ("You", True), ("Hamlet", False), ("Horatio", True), ("Ophelia", True)
        ]  # fmt: skip
        assert app.session.spec.cast == ["Hamlet", "Horatio", "Ophelia"]  # saved for resume
        await type_line(pilot, "Ophelia, speak.")
        await settle(app, pilot)
        assert transcript_lines(app)[-1] == "OPHELIA: Good my lord."
        await type_line(pilot, "/dismiss Yorick")
        await settle(app, pilot)
        assert any("cannot dismiss 'Yorick'" in str(n.message) for n in app._notifications)


@pytest.mark.asyncio
async def test_undo_and_retry(tmp_path):
    app = new_chat_app(tmp_path, FakeModel(["Ay, my lord.", "Nay, my lord."]))
    async with app.run_test(size=(110, 30)) as pilot:
        await settle(app, pilot)
        await type_line(pilot, "Horatio?")
        await settle(app, pilot)
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        turns = app.session.turns()
        assert [t["text"] for t in turns] == ["Horatio?", "Nay, my lord."]
        assert transcript_lines(app) == ["YOU: Horatio?", "HORATIO: Nay, my lord."]
        await pilot.press("ctrl+z")
        await settle(app, pilot)
        assert [t["text"] for t in app.session.turns()] == ["Horatio?"]
        assert transcript_lines(app)[0] == "YOU: Horatio?" and "HORATIO" not in "".join(
            transcript_lines(app)
        )
        await pilot.press("up")
        assert app.query_one(ChatInput).value == "Horatio?"  # input history


@pytest.mark.asyncio
async def test_resume_in_a_new_app(tmp_path):
    app = new_chat_app(tmp_path, FakeModel(["Welcome, good friend."]))
    async with app.run_test(size=(110, 30)) as pilot:
        await settle(app, pilot)
        await type_line(pilot, "/dismiss Horatio")
        await settle(app, pilot)
        await type_line(pilot, "Good evening.")
        await settle(app, pilot)
    again = reopened_app(tmp_path, FakeModel(["Again?"]))
    async with again.run_test(size=(110, 30)) as pilot:
        await settle(again, pilot)
        assert transcript_lines(again) == ["YOU: Good evening.", "HAMLET: Welcome, good friend."]
        assert [r.present for r in again.rows] == [True, True, False]
        await type_line(pilot, "Again, Hamlet.")
        await settle(again, pilot)
        assert [t["index"] for t in again.session.turns()] == [0, 1, 2, 3]


@pytest.mark.parametrize("key,kept", [("k", True), ("d", False)])
@pytest.mark.asyncio
async def test_escape_stops_a_reply_which_is_kept_or_discarded(tmp_path, key, kept):
    app = new_chat_app(tmp_path, SlowModel(0.3))
    async with app.run_test(size=(110, 30)) as pilot:
        await settle(app, pilot)
        await type_line(pilot, "Hamlet, speak on.")
        transcript = app.query_one(Transcript)
        await wait_until(pilot, lambda: transcript.live is not None, 30, "the first word")
        assert app.busy
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, KeepOrDiscard), 30, "the question")
        partial = app.screen.turn["text"]
        assert 0 < len(partial.split()) < 8
        await pilot.press(key)
        await settle(app, pilot)
        turns = app.session.turns()
        if kept:
            assert turns[-1]["text"] == partial and turns[-1]["source"] == "stopped"
        else:
            assert [t["source"] for t in turns] == ["human"]


@pytest.mark.asyncio
async def test_watch_errors_and_palette(tmp_path):
    app = new_chat_app(tmp_path, FakeModel(["One.", "Two.", "Three."]))
    async with app.run_test(size=(110, 30)) as pilot:
        await settle(app, pilot)
        await type_line(pilot, "/watch 3")
        await settle(app, pilot)
        assert [t["text"] for t in app.session.turns()] == ["One.", "Two.", "Three."]
        await type_line(pilot, "/frobnicate")
        await settle(app, pilot)
        assert any("unknown command /frobnicate" in str(n.message) for n in app._notifications)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for title in (
            "Undo",
            "Retry",
            "Save",
            "Export",
            "Help",
            "Dismiss Hamlet",
            "Invite Ophelia",
        ):
            assert title in titles
        await type_line(pilot, f"/export {tmp_path}/chat.md")
        await settle(app, pilot)
        text = (tmp_path / "chat.md").read_text()
        assert "**HAMLET**  \nOne." in text and "thread `chat-test`" in text


@pytest.mark.asyncio
async def test_loading_shows_an_indicator_and_a_failed_load_a_notification(tmp_path):
    import threading

    from textual.widgets import LoadingIndicator

    from dramatis.core.errors import DramatisError
    from dramatis.tui.app import ChatApp

    release = threading.Event()

    def load():
        release.wait(10)
        raise DramatisError("model file not found: /nowhere.gguf (pass --model with a .gguf path)")

    app = ChatApp(load)
    async with app.run_test(size=(110, 30)) as pilot:
        await pilot.pause(0.2)
        main = app.query_one("#main")
        assert main.loading and isinstance(main._cover_widget, LoadingIndicator)
        release.set()
        await wait_until(pilot, lambda: app._notifications, 30, "a notification")
        assert "model file not found" in str(list(app._notifications)[0].message)
        assert not main.loading and app.session is None
        await type_line(pilot, "Anyone?")  # no session: a warning, not a crash
        assert any("wait for the scene" in str(n.message) for n in app._notifications)
