"""Snapshots of the chat's main screen (pytest-textual-snapshot); update them with
`pytest tests/test_chat_snapshots.py --snapshot-update` after a deliberate change."""

from chat_helpers import new_chat_app, settle

from dramatis.agents.fake_backend import FakeModel
from dramatis.tui.widgets import ChatInput

SIZE = (110, 30)


def test_main_screen_after_a_reply(snap_compare, tmp_path):
    app = new_chat_app(tmp_path, FakeModel(["Here, sweet lord, at your service."]))

    async def run_before(pilot):
        await settle(app, pilot)
        app.query_one(ChatInput).value = "Horatio, are you there?"
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press(*"/dis")
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_main_screen_with_someone_dismissed_and_help(snap_compare, tmp_path):
    app = new_chat_app(tmp_path, FakeModel(["Farewell."]), cast="Hamlet,Ophelia,Horatio")

    async def run_before(pilot):
        await settle(app, pilot)
        app.query_one(ChatInput).value = "/dismiss Ophelia"
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("f1")
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_a_retried_reply_swiped_back_to_its_first_version(snap_compare, tmp_path):
    app = new_chat_app(tmp_path, FakeModel(["Here, my lord.", "Again, my lord."]), cast="Horatio")

    async def run_before(pilot):
        await settle(app, pilot)
        app.query_one(ChatInput).value = "Horatio?"
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        await pilot.press("alt+left")
        await settle(app, pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_an_edited_line_and_the_branches_it_made(snap_compare, tmp_path):
    model = FakeModel(["Here, my lord.", "At your service."])
    app = new_chat_app(tmp_path, model, cast="Horatio")

    async def run_before(pilot):
        await settle(app, pilot)
        box = app.query_one(ChatInput)
        box.value = "Horatio?"
        await pilot.press("enter")
        await settle(app, pilot)
        box.value = "/edit 0 Who goes there?"
        await pilot.press("enter")
        await settle(app, pilot)
        box.value = "/branches"
        await pilot.press("enter")
        await settle(app, pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
