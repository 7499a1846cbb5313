"""The chat's side panel shows what the speaker recalled: the agent keeps its recollections
(unit), and a chat with real memory (qdrant local store, real embeddings) shows them."""

import pytest
from chat_helpers import new_chat_app, settle, wait_until
from conftest import StubPersona
from test_chat_app import type_line
from test_memory_scene import Remembers, index_slice

from dramatis.agents.character import AgentSettings, CharacterAgent
from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.turn import make_turn
from dramatis.core.settings import Settings
from dramatis.tui.session import Recollection
from dramatis.tui.widgets import RecallPanel, recalls


def test_agent_keeps_what_it_recalled_for_its_latest_speech():
    memory = Remembers(["Polonius is dead.", "Laertes is in France.", "x " * 200])
    model = FakeModel(["I shall obey, my lord."])
    agent = CharacterAgent(
        StubPersona("Ophelia"), model, cast=["Ophelia", "Hamlet"],
        settings=AgentSettings(memory_tokens=30), memory=memory,
    )  # fmt: skip
    assert agent.recalled == ()
    turns = [make_turn(0, "Hamlet", "Get thee to a nunnery.", present=["Hamlet", "Ophelia"])]
    said = agent.speak(turns, "A room.", seed=1)
    assert said.text == "I shall obey, my lord."  # what is generated does not change
    assert agent.recalled == ("Polonius is dead.", "Laertes is in France.")  # budget kept
    assert "Polonius is dead. Laertes is in France.]" in model.prompts[0]
    memory.lines = ["Yorick is dead."]
    agent.speak(turns, "A room.", seed=2)
    assert agent.recalled == ("Yorick is dead.",)  # the latest speech's, not a pile
    plain = CharacterAgent(StubPersona("Ophelia"), FakeModel(), cast=["Ophelia"])
    plain.speak(turns, "A room.", seed=1)
    assert plain.recalled == ()


def test_recall_text_has_a_heading_and_a_line_per_memory():
    shown = recalls(Recollection("Hamlet", ("Polonius is dead.", "Yorick jested.")), "bold")
    assert shown.plain == "Hamlet recalls\n· Polonius is dead.\n· Yorick jested."
    assert recalls(Recollection("Hamlet", ()), "bold").plain == "Hamlet recalls\n· (nothing)"
    assert recalls(None, "bold").plain == ""


@pytest.mark.asyncio
async def test_side_panel_shows_what_the_speaker_recalled(tmp_path, embedding_cache):
    settings = Settings(home=tmp_path, n_threads=1).ensure()
    index_slice(settings, embedding_cache)
    model = FakeModel(["Here, sweet lord."])
    app = new_chat_app(tmp_path, model, scene="hamlet:1.2", memory=True)
    async with app.run_test(size=(130, 40)) as pilot:
        await settle(app, pilot, 120)
        panel = app.query_one(RecallPanel)
        assert not panel.display  # nobody has spoken in the chat yet
        await type_line(pilot, "Horatio, what of the ghost?")
        await settle(app, pilot, 120)
        assert app.session.turns()[-1]["speaker"] == "Horatio"
        lines = app.session.scene.agents["Horatio"].recalled
        assert lines and f"[Horatio remembers: {' '.join(lines)}]" in model.prompts[-1]
        shown = panel.render()
        assert panel.display and str(shown).startswith("Horatio recalls\n")
        assert str(shown) == recalls(Recollection("Horatio", lines), "").plain
    app.session.staged.memory.store.close()


@pytest.mark.asyncio
async def test_no_memory_no_recall_panel(tmp_path):
    app = new_chat_app(tmp_path, FakeModel(["Here, sweet lord."]))
    async with app.run_test(size=(110, 30)) as pilot:
        await settle(app, pilot)
        await type_line(pilot, "Horatio?")
        await settle(app, pilot)
        assert app.session.recollection() is None
        assert not app.query_one(RecallPanel).display


@pytest.mark.asyncio
async def test_memory_without_an_indexed_play_is_a_notification_naming_the_fix(tmp_path):
    app = new_chat_app(tmp_path, FakeModel(), memory=True)
    async with app.run_test(size=(110, 30)) as pilot:
        await wait_until(pilot, lambda: app._notifications, 60, "a notification")
        message = str(next(iter(app._notifications)).message)
        assert "run `dramatis memory index hamlet` once" in message
        assert app.session is None and app.is_running  # the app stays up
