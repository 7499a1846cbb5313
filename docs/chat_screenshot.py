"""Write docs/chat.svg: the chat app on the bundled model after one exchange, with memory
(a small slice of Hamlet indexed, as in the tests).

    DRAMATIS_THREADS=1 .venv/bin/python docs/chat_screenshot.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))

from chat_helpers import new_chat_app, settle  # noqa: E402
from conftest import hamlet_lore_slice  # noqa: E402

from dramatis.agents.catalog import resolve_model  # noqa: E402
from dramatis.agents.llama_backend import LlamaCppModel  # noqa: E402
from dramatis.memory.embed import Embedder  # noqa: E402
from dramatis.memory.lore import index_play  # noqa: E402
from dramatis.memory.settings import MemorySettings  # noqa: E402
from dramatis.memory.store import VectorStore  # noqa: E402


def index_slice(home: Path) -> None:
    """Hamlet's lore, about 175 short speeches: enough for the panel, in seconds."""
    ms = MemorySettings.under(home)
    store, (play, short) = VectorStore(ms.store), hamlet_lore_slice()
    index_play(store, Embedder(ms.embeddings, threads=1), play, speeches=short)
    store.close()


async def main() -> None:
    model = LlamaCppModel(resolve_model("smollm2", cache_dir=None), n_threads=1, seed=0)
    home = Path(tempfile.mkdtemp())
    index_slice(home)
    app = new_chat_app(home, model, cast="Hamlet,Horatio,Ophelia", max_tokens=40, memory=True)
    async with app.run_test(size=(120, 32)) as pilot:
        await settle(app, pilot)
        await pilot.press(*"Horatio, what news from Wittenberg?", "enter")
        await settle(app, pilot)
        await pilot.press(*"/dismiss Oph")
        await pilot.pause(0.3)
        app.save_screenshot("chat.svg", str(Path(__file__).parent))


asyncio.run(main())
