"""The version stamp of a local memory store: the one file read before qdrant opens it.

qdrant's local folders hold pickled rows, so a folder is opened only when its stamp says
this tool made it. Everything here reads plain JSON, never the rows themselves.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dramatis.core.errors import DramatisError
from dramatis.memory.embed import DIM, MODEL_NAME

STORE_FORMAT = "dramatis-memory-store/1"
STAMP = "dramatis-memory.json"
MAX_JSON_BYTES = 1 << 20  # a stamp is ~80 bytes, qdrant's meta.json a few KB a collection
REINDEX = "run `dramatis memory index PLAY` again"


def new_stamp() -> str:
    """The stamp text of a store made now: '{"format": "dramatis-memory-store/1", ...}'."""
    return json.dumps({"format": STORE_FORMAT, "model": MODEL_NAME, "dim": DIM})


def shown(value: object, width: int = 40) -> str:
    """A value as one short line for an error message: shown("a\\nb") == "'a\\\\nb'"."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def aside(folder: Path) -> str:
    """The fix for a store that cannot be used: move it aside, then index again."""
    return f"move it aside (mv {folder} {folder}.bak) and {REINDEX}"


def read_json(path: Path) -> Any:
    """A small JSON file's content; a one-line DramatisError if it is missing or damaged."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_JSON_BYTES + 1)
    except OSError as err:
        raise DramatisError(f"{path}: cannot be read ({err.strerror or err})") from None
    if len(raw) > MAX_JSON_BYTES:
        raise DramatisError(f"{path}: larger than {MAX_JSON_BYTES} bytes, so not ours")
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError included
        raise DramatisError(f"{path}: not valid JSON") from None


def store_is_empty(folder: Path) -> bool:
    """True for a folder that does not exist yet or holds nothing (a store is made there)."""
    try:
        return not folder.exists() or not any(folder.iterdir())
    except OSError as err:  # a file where the folder should be, no permission, ...
        raise DramatisError(
            f"{folder}: cannot be used as a memory store ({err.strerror or err}); "
            "point --store or DRAMATIS_MEMORY_STORE at a folder"
        ) from None


def read_stamp(folder: Path) -> dict[str, Any]:
    """The stamp of a store this version made; a one-line DramatisError for any other."""
    stamp = folder / STAMP
    if not stamp.is_file():
        raise DramatisError(
            f"{folder} is not a dramatis memory store (no {STAMP}); point --store at an "
            "empty or new folder"
        )
    try:
        data = read_json(stamp)
    except DramatisError as err:
        raise DramatisError(f"{err}: the store's stamp is damaged; {aside(folder)}") from None
    found = data.get("format") if isinstance(data, dict) else None
    if found != STORE_FORMAT:
        raise DramatisError(
            f"{folder} was made by another dramatis version ({shown(found)}, this one reads "
            f"{STORE_FORMAT}); {aside(folder)}"
        )
    return data
