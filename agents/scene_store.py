"""Where scenes live: LangGraph checkpoints plus each scene's spec, in one SQLite file."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from langgraph.checkpoint.sqlite import SqliteSaver
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from dramatis.agents.character import AgentSettings
from dramatis.core.errors import DramatisError, closest


class SceneSpec(BaseModel):
    """Everything needed to rebuild a scene in a new process.

    Unknown keys are refused, here and in `agent`, so a hand-edited or foreign spec
    fails with the field's name instead of deep inside the scene."""

    model_config = ConfigDict(extra="forbid")

    thread_id: str
    cast: list[str]  # character names, as they speak in the scene
    # name -> play key, so "Antonio" stays The Merchant of Venice's on every run;
    # scenes saved before plays were stored have none and resolve bare names.
    plays: dict[str, str] = Field(default_factory=dict)
    setting: str
    source_scene: str | None = None  # "hamlet:3.1" when seeded from the play
    model: str = "smollm2"  # a bundled model name or an absolute .gguf path
    seed: int = 0
    policy: str = "addressed"
    agent: AgentSettings = Field(default_factory=AgentSettings)
    adapters: bool = False  # each character speaks with its active LoRA adapter
    human: str | None = None  # a chat's participant typed by a person ("You" or a character)
    memory: bool = False  # characters remember the play and the scene (dramatis.memory)
    created: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat())

    @field_validator("plays")
    @classmethod
    def _plays_name_cast_members(cls, plays: dict[str, str], info: ValidationInfo) -> dict:
        if stray := sorted(set(plays) - set(info.data.get("cast", []))):
            raise ValueError(f"{', '.join(stray)} not in the cast")
        return plays

    def roles(self) -> list[str]:
        """Each cast member as find_persona takes it: "merchant_of_venice:Antonio", or the
        bare name for a scene saved without plays."""
        return [f"{self.plays[n]}:{n}" if n in self.plays else n for n in self.cast]


def parse_spec(text: str, where: str) -> SceneSpec:
    """A stored spec, validated; one-line DramatisError naming `where` and the bad field."""
    try:
        return SceneSpec.model_validate_json(text)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(part) for part in err["loc"]) or "(top level)"
        unknown = err["type"] in {"extra_forbidden", "unexpected_keyword_argument"}
        problem = "unknown field" if unknown else err["msg"]
        raise DramatisError(
            f"{where}: {field}: {problem}; fix or remove it, or stage the scene again"
        ) from None


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
        return parse_spec(row[0], f"scene {thread_id!r} in {self.path}")

    def close(self) -> None:
        self.conn.close()
