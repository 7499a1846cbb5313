"""Shared by the chat tests: a chat app over a given model in a private home."""

from __future__ import annotations

from pathlib import Path

from dramatis.agents.model import LanguageModel
from dramatis.agents.scene_store import SceneStore
from dramatis.core.settings import Settings
from dramatis.tui.app import ChatApp
from dramatis.tui.session import ChatOptions, ChatSession, new_spec, open_chat
from dramatis.tui.widgets import Transcript


def new_chat_app(
    home: Path, model: LanguageModel, cast: str = "Hamlet,Horatio", **options
) -> ChatApp:
    settings = Settings(home=home, n_threads=1).ensure()
    store = SceneStore(settings.scenes_db)
    spec, opening = new_spec(ChatOptions(cast=cast, **options), thread_id="chat-test")
    return ChatApp(lambda: ChatSession.start(spec, opening, store, settings, model))


def reopened_app(home: Path, model: LanguageModel, thread_id: str = "chat-test") -> ChatApp:
    settings = Settings(home=home, n_threads=1).ensure()
    store = SceneStore(settings.scenes_db)
    return ChatApp(lambda: open_chat(thread_id, store, settings, model))


async def settle(app: ChatApp, pilot) -> None:
    """Wait until the model is loaded and no scene job runs."""
    for _ in range(600):
        await pilot.pause(0.05)
        if app.session is not None and not app.busy:
            await pilot.pause(0.05)
            return
    raise AssertionError("the chat did not settle in 30 s")


def transcript_lines(app: ChatApp) -> list[str]:
    return [str(w.render()) for w in app.query_one(Transcript).children]
