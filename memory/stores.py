"""Memory stores by the place they are given: what holds the lore and episodic vectors.

A store is anything with the `Store` methods. `open_store(where)` offers `where` (the
`--store` option, DRAMATIS_MEMORY_STORE, or the default folder in the home) to each
registered store in order, and the first that takes it opens it; qdrant, which takes a
folder, an http(s) URL or ":memory:", is asked last. Everything that opens a store
(stage --memory, chat, memory index/show, the arena's memory jobs) comes here.

A store from outside the package joins with `register_store`:

    register_store(StoreEntry("dict", "dict:NAME, in this process", takes, open))

(docs/architecture.md, "How to add a memory store").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from dramatis.core.registry import add_before_last
from dramatis.memory.mirror import Hit, Where


class Store(Protocol):
    """Two collections ("lore", "episodic") of unit vectors with payloads. A search's
    `Where` (memory/mirror.py) filters by payload: fields equal to a value, list fields
    holding one, int fields below one; hits come best first, scored by cosine."""

    where: str

    def upsert(
        self, name: str, ids: list[str], vectors: np.ndarray, payloads: list[dict]
    ) -> None: ...

    def delete(self, name: str, ids: list[str]) -> None: ...

    def search(self, name: str, vector: np.ndarray, where: Where, limit: int) -> list[Hit]: ...

    def payloads(self, name: str, where: Where, limit: int = 10_000) -> list[dict]: ...

    def count(self, name: str, where: Where | None = None) -> int: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class StoreEntry:
    """A registered store: which places it takes and how to open one."""

    kind: str
    help: str
    takes: Callable[[str], bool]
    open: Callable[[str], Store]


_REGISTRY: dict[str, StoreEntry] = {}
LAST = "qdrant"  # a folder, a URL or ":memory:": whatever no other store takes


def register_store(entry: StoreEntry) -> StoreEntry:
    """Add a store; it is asked before qdrant (a kind already registered is refused)."""
    return add_before_last(_REGISTRY, entry.kind, entry, LAST, "memory store")


def stores() -> list[StoreEntry]:
    return list(_REGISTRY.values())


def open_store(where: str) -> Store:
    """The store at `where`, opened by the first registered store that takes it."""
    entry = next(e for e in _REGISTRY.values() if e.takes(where))
    return entry.open(where)


def _open_qdrant(where: str) -> Store:
    from dramatis.memory.store import VectorStore

    return VectorStore(where)


register_store(
    StoreEntry(
        LAST,
        "qdrant: a folder (local mode, the default), an http(s) URL, or :memory:",
        takes=lambda where: True,
        open=_open_qdrant,
    )
)
