"""Where a scene's memories live, and how they are scored: one typed object, made from
the app's Settings (home, memory store, threads) and passed down; nothing here reads the
environment."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from dramatis.core.settings import Settings
from dramatis.memory.embed import Embedder
from dramatis.memory.retrieval import Weights


class MemorySettings(BaseModel):
    # A folder (qdrant local mode), a Qdrant server URL (http://HOST:6333) or ":memory:".
    store: str
    graphs: Path  # one MemoryGraph JSON per scene thread
    embeddings: Path  # cached embedding batches (.npy)
    weights: Weights = Field(default_factory=Weights)
    threads: int | None = None  # torch threads for embedding batches (None: up to 4)

    @classmethod
    def under(
        cls, home: Path, store: str | None = None, threads: int | None = None
    ) -> MemorySettings:
        """Defaults inside the dramatis home; `store` overrides the store's place."""
        return cls(
            store=store or str(home / "memory" / "store"),
            graphs=home / "memory" / "graphs",
            embeddings=home / "cache" / "embeddings",
            threads=threads,
        )

    @classmethod
    def of(cls, settings: Settings, store: str | None = None) -> MemorySettings:
        """From the app's Settings: its home, memory_store (DRAMATIS_MEMORY_STORE) and
        n_threads (--threads, DRAMATIS_THREADS); `store` (a command's --store) wins."""
        return cls.under(settings.home, store or settings.memory_store, settings.n_threads)

    def embedder(self) -> Embedder:
        """The embedder these settings describe: their cache folder and threads."""
        return Embedder(self.embeddings, threads=self.threads)

    def graph_path(self, thread: str) -> Path:
        return self.graphs / f"{thread}.json"
