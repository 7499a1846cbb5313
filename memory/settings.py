"""Where a scene's memories live, and how they are scored: one typed object."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, Field

from dramatis.memory.retrieval import Weights


class MemorySettings(BaseModel):
    # A folder (qdrant local mode), a Qdrant server URL (http://HOST:6333) or ":memory:".
    store: str
    graphs: Path  # one MemoryGraph JSON per scene thread
    embeddings: Path  # cached embedding batches (.npy)
    weights: Weights = Field(default_factory=Weights)

    @classmethod
    def under(cls, home: Path, store: str | None = None) -> MemorySettings:
        """Defaults inside the dramatis home; DRAMATIS_MEMORY_STORE or `store` override."""
        chosen = store or os.environ.get("DRAMATIS_MEMORY_STORE") or str(home / "memory" / "store")
        return cls(
            store=chosen,
            graphs=home / "memory" / "graphs",
            embeddings=home / "cache" / "embeddings",
        )

    def graph_path(self, thread: str) -> Path:
        return self.graphs / f"{thread}.json"
