"""Shared by the chat tests: a chat app over a given model in a private home."""

from __future__ import annotations

from collections.abc import Callable
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


async def wait_until(pilot, condition: Callable[[], object], seconds: float, what: str) -> None:
    """Poll `condition` while the app runs; generous limits, as the machine may be busy."""
    for _ in range(int(seconds / 0.05)):
        await pilot.pause(0.05)
        if condition():
            return
    raise AssertionError(f"{what} did not happen in {seconds} s")


async def settle(app: ChatApp, pilot, seconds: float = 60) -> None:
    """Wait until the model is loaded and no scene job runs."""
    await wait_until(pilot, lambda: app.session is not None and not app.busy, seconds, "settling")
    await pilot.pause(0.05)


def transcript_lines(app: ChatApp) -> list[str]:
    return [str(w.render()) for w in app.query_one(Transcript).children]
