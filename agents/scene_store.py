"""Where scenes live: LangGraph checkpoints plus each scene's spec, in one SQLite file."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from langgraph.checkpoint.sqlite import SqliteSaver
from pydantic import BaseModel, Field

from dramatis.core.errors import DramatisError, closest


class SceneSpec(BaseModel):
    """Everything needed to rebuild a scene in a new process."""

    thread_id: str
    cast: list[str]
    setting: str
    source_scene: str | None = None  # "hamlet:3.1" when seeded from the play
    model: str = "smollm2"
    seed: int = 0
    policy: str = "addressed"
    agent: dict = Field(default_factory=dict)  # AgentSettings fields
    adapters: bool = False  # each character speaks with its active LoRA adapter
    memory: bool = False  # characters remember the play and the scene (dramatis.memory)
    created: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat())


class SceneStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.conn = sqlite3.connect(str(path), check_same_thread=False)
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS dramatis_scenes "
            "(thread_id TEXT PRIMARY KEY, spec TEXT NOT NULL, created TEXT NOT NULL)"
        )
        self.conn.commit()
        self.checkpointer = SqliteSaver(self.conn)

    def save(self, spec: SceneSpec) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO dramatis_scenes VALUES (?, ?, ?)",
            (spec.thread_id, spec.model_dump_json(), spec.created),
        )
        self.conn.commit()

    def ids(self) -> list[str]:
        rows = self.conn.execute("SELECT thread_id FROM dramatis_scenes ORDER BY created")
        return [r[0] for r in rows]

    def load(self, thread_id: str) -> SceneSpec:
        row = self.conn.execute(
            "SELECT spec FROM dramatis_scenes WHERE thread_id = ?", (thread_id,)
        ).fetchone()
        if row is None:
            hint = closest(thread_id, self.ids()) or self.ids()[-3:]
            known = f"; did you mean {', '.join(hint)}?" if hint else "; no scenes saved yet"
            raise DramatisError(f"no scene with thread id {thread_id!r} in {self.path}{known}")
        return SceneSpec.model_validate(json.loads(row[0]))

    def close(self) -> None:
        self.conn.close()
