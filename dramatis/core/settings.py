"""Typed settings, loaded once and passed down.

Defaults suit the bundled model on a small CPU machine. Environment variables
(DRAMATIS_HOME, DRAMATIS_MODEL, DRAMATIS_THREADS, DRAMATIS_CACHE_MB, DRAMATIS_N_CTX,
DRAMATIS_MEMORY_STORE, DRAMATIS_SMALL_VOCAB)
override them through pydantic-settings; the CLI overrides both.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from dramatis.core.errors import DramatisError
from dramatis.core.paths import ensure_folder

# The model for staging, chat and serving, and the base `dramatis train` trains adapters
# on, chosen from the arena's numbers (docs/fidelity.md, rounds 3 and 4): in the page
# format Gemma 3 270M speaks in voice more often than SmolLM2-135M at the same speed.
# Defined here once; agents.catalog knows what the name means.
DEFAULT_MODEL = "gemma3-270m"

# field -> (environment variable, an example of a good value)
ENV = {
    "home": ("DRAMATIS_HOME", "~/.dramatis"),
    "model": ("DRAMATIS_MODEL", "smollm2"),
    "n_ctx": ("DRAMATIS_N_CTX", "2048"),
    "n_threads": ("DRAMATIS_THREADS", "2"),
    "cache_mb": ("DRAMATIS_CACHE_MB", "256"),
    "memory_store": ("DRAMATIS_MEMORY_STORE", "http://localhost:6333"),
    "small_vocab": ("DRAMATIS_SMALL_VOCAB", "0"),
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DRAMATIS_", extra="ignore")

    home: Path = Path.home() / ".dramatis"  # scenes db, model cache, adapters
    # Bundled model name, a .gguf path, openai:URL#MODEL or fake (agents.catalog.parse_model).
    model: str = DEFAULT_MODEL
    n_ctx: int = Field(2048, gt=0)
    # None: up to 4 of the machine's cores. The variable keeps its short, older name.
    n_threads: int | None = Field(
        None, ge=0, validation_alias=AliasChoices("n_threads", "DRAMATIS_THREADS")
    )
    # Saved prompt prefixes, one per adapter, so a speaker switch under adapters does not
    # re-evaluate the whole prompt (agents/prefix_cache.py); 0 turns it off.
    cache_mb: float = Field(256.0, ge=0)
    # Where memory's vectors live: a folder (qdrant local mode), a Qdrant server URL
    # (http://HOST:6333) or ":memory:"; None: HOME/memory/store. `--store` overrides it.
    memory_store: str | None = None
    # The bundled Gemma runs with only the tokens English text uses (98k of 262k): the
    # same words, about 1.5x the tokens a second (agents/small_vocab.py); 0 runs it whole.
    small_vocab: bool = True

    @field_validator("home")
    @classmethod
    def _expand(cls, home: Path) -> Path:
        return home.expanduser()

    @classmethod
    def load(cls, **overrides: object) -> Settings:
        """Defaults < environment < `overrides` (the CLI's options; None: not given)."""
        given: dict[str, Any] = {k: v for k, v in overrides.items() if v is not None}
        try:
            return cls(**given)
        except ValidationError as exc:
            raise setting_error(exc, given) from None

    @property
    def scenes_db(self) -> Path:
        return self.home / "scenes.sqlite"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    def ensure(self) -> Settings:
        """Make the state folders, or say in one line why the home cannot be one."""
        fix = "set --home or DRAMATIS_HOME to a folder you can write (or move the file aside)"
        ensure_folder(self.home, "state folder", fix)
        ensure_folder(self.cache_dir, "cache folder")
        return self


def default_home() -> Path:
    """The state folder: DRAMATIS_HOME, else ~/.dramatis (for code given no Settings)."""
    return Settings.load().home


def setting_error(exc: ValidationError, given: dict[str, object]) -> DramatisError:
    """One line naming the bad value where it came from (an option or a variable)."""
    err = exc.errors()[0]
    field = str(err["loc"][0]) if err["loc"] else ""
    field = next((f for f, (var, _) in ENV.items() if var == field), field)  # alias -> field
    var, example = ENV.get(field, (field, ""))
    raw = given[field] if field in given else os.environ.get(var, err.get("input"))
    option = "--threads" if field == "n_threads" else f"--{field.replace('_', '-')}"
    where = option if field in given else var
    bound = err.get("ctx", {})
    if err["type"] == "greater_than_equal" and bound.get("ge") == 0:
        return DramatisError(f"{where}={raw!r} is negative: set it to 0 or more")
    if err["type"] == "greater_than":
        return DramatisError(f"{where}={raw!r} is too small: set it above {bound.get('gt')}")
    if err["type"] in {"int_parsing", "float_parsing", "int_from_float"}:
        return DramatisError(
            f"{where}={raw!r} is not a number: set it to e.g. {example} or unset it"
        )
    return DramatisError(f"{where}={raw!r}: {err['msg']}; set it to e.g. {example}")
