"""Typed settings, loaded once and passed down.

Defaults suit the bundled model on a small CPU machine. Environment variables
(DRAMATIS_HOME, DRAMATIS_THREADS, DRAMATIS_CACHE_MB) override them; the CLI overrides
both.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, Field

from dramatis.core.errors import DramatisError


def default_home() -> Path:
    return Path(os.environ.get("DRAMATIS_HOME", Path.home() / ".dramatis")).expanduser()


class Settings(BaseModel):
    home: Path = Field(default_factory=default_home)  # scenes db, model cache, adapters
    model: str = "smollm2"  # bundled model name or a .gguf path
    n_ctx: int = 2048
    n_threads: int | None = None  # None: up to 4 of the machine's cores
    # Saved prompt prefixes, one per adapter, so a speaker switch under adapters does not
    # re-evaluate the whole prompt (agents/prefix_cache.py); 0 turns it off.
    cache_mb: float = 256.0

    @classmethod
    def load(cls, **overrides: object) -> Settings:
        values: dict[str, object] = {}
        for var, key, kind, example in (
            ("DRAMATIS_THREADS", "n_threads", int, "2"),
            ("DRAMATIS_CACHE_MB", "cache_mb", float, "256"),
        ):
            if raw := os.environ.get(var):
                try:
                    number = kind(raw)
                except ValueError:
                    raise DramatisError(
                        f"{var}={raw!r} is not a number: set it to e.g. {example} or unset it"
                    ) from None
                values[key] = number
                if number < 0:
                    raise DramatisError(f"{var}={raw!r} is negative: set it to 0 or more")
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
