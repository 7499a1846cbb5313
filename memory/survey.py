"""What a local memory store holds, read without opening it in qdrant.

For `dramatis doctor`: the stamp, qdrant's `meta.json` and each collection's SQLite file,
all opened read-only. Rows are counted, never loaded (they are pickles).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dramatis.core.errors import DramatisError
from dramatis.memory.embed import DIM, MODEL_NAME
from dramatis.memory.stamp import STAMP, aside, read_json, read_stamp, shown
from dramatis.memory.store import COLLECTIONS

ROW_COLUMNS = ["id", "point"]  # qdrant local mode's table `points`


@dataclass(frozen=True)
class StoreSurvey:
    folder: Path
    model: str
    points: dict[str, int]  # rows per collection

    def summary(self) -> str:
        """One line: 'all-MiniLM-L6-v2, lore 175 points, episodic 3 points'."""
        counts = [f"{name} {n} point{'s' * (n != 1)}" for name, n in self.points.items()]
        return ", ".join([self.model, *counts]) if counts else f"{self.model}, no collections yet"


def looks_like_store(folder: Path) -> bool:
    """A folder qdrant made or this tool stamped (stamped or not: a stray store is news)."""
    return (folder / STAMP).is_file() or (
        (folder / "meta.json").is_file() and (folder / "collection").is_dir()
    )


def survey_store(folder: Path) -> StoreSurvey:
    """Check a store folder without opening it; a one-line DramatisError names the fault."""
    stamp = read_stamp(folder)
    model = check_model(stamp, folder)
    names = read_collections(folder)
    return StoreSurvey(folder, model, {name: count_rows(folder, name) for name in names})


def check_model(stamp: dict[str, Any], folder: Path) -> str:
    """The embedding model a stamp names, if it is the one this version embeds with."""
    model, dim = stamp.get("model", MODEL_NAME), stamp.get("dim", DIM)
    if model != MODEL_NAME or dim != DIM:
        raise DramatisError(
            f"{folder} holds {shown(model)} embeddings of size {shown(dim)}, this version "
            f"uses {MODEL_NAME} ({DIM}); {aside(folder)}"
        )
    return MODEL_NAME


def read_collections(folder: Path) -> list[str]:
    """The collections qdrant's meta.json lists, each ours and of the right vector size."""
    meta = folder / "meta.json"
    if not meta.exists():
        return []  # stamped, but qdrant has not written anything yet
    try:
        data = read_json(meta)
    except DramatisError as err:
        raise DramatisError(f"{err}: the store is damaged; {aside(folder)}") from None
    found = data.get("collections") if isinstance(data, dict) else None
    if not isinstance(found, dict):
        raise DramatisError(f"{meta}: lists no collections: the store is damaged; {aside(folder)}")
    for name, config in found.items():
        if name not in COLLECTIONS:
            raise DramatisError(
                f"{meta}: holds a collection {shown(name)} this tool never makes; {aside(folder)}"
            )
        size = config.get("vectors", {}) if isinstance(config, dict) else None
        size = size.get("size") if isinstance(size, dict) else None
        if size != DIM:
            raise DramatisError(
                f"{meta}: collection {name} has vectors of size {shown(size)}, not {DIM}; "
                f"{aside(folder)}"
            )
    return [name for name in COLLECTIONS if name in found]


def count_rows(folder: Path, name: str) -> int:
    """Rows in one collection's SQLite file, opened read-only; the rows stay unread."""
    db = folder / "collection" / name / "storage.sqlite"
    damaged = f"{db}: collection {name} is damaged"
    if not db.is_file():
        raise DramatisError(f"{db}: collection {name} is missing; {aside(folder)}")
    try:
        conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as err:
        raise DramatisError(f"{damaged} ({err}); {aside(folder)}") from None
    try:
        columns = [r[1] for r in conn.execute("PRAGMA table_info(points)")]
        verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
        if columns != ROW_COLUMNS or verdict != "ok":
            raise DramatisError(f"{damaged} (table points: {columns}, {verdict}); {aside(folder)}")
        return int(conn.execute("SELECT count(*) FROM points").fetchone()[0])
    except sqlite3.Error as err:
        raise DramatisError(f"{damaged} ({err}); {aside(folder)}") from None
    finally:
        conn.close()
