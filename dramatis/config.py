"""Typed settings, loaded once and passed down.

Defaults suit the bundled model on a small CPU machine. Environment variables
(DRAMATIS_HOME, DRAMATIS_THREADS) override them; the CLI overrides both.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, Field


def default_home() -> Path:
    return Path(os.environ.get("DRAMATIS_HOME", Path.home() / ".dramatis")).expanduser()


class Settings(BaseModel):
    home: Path = Field(default_factory=default_home)  # scenes db, model cache, adapters
    model: str = "smollm2"  # bundled model name or a .gguf path
    n_ctx: int = 2048
    n_threads: int | None = None  # None: up to 4 of the machine's cores

    @classmethod
    def load(cls, **overrides: object) -> Settings:
        values: dict[str, object] = {}
        if threads := os.environ.get("DRAMATIS_THREADS"):
            values["n_threads"] = int(threads)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)

    @property
    def scenes_db(self) -> Path:
        return self.home / "scenes.sqlite"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    def ensure(self) -> Settings:
        self.home.mkdir(parents=True, exist_ok=True)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        return self
