"""Where scenes live: LangGraph checkpoints plus each scene's spec, in one SQLite file."""

from __future__ import annotations

import fcntl
import hashlib
import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
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
    # Story horizon without a source scene ("hamlet:2.2"; memory/clock.py horizon_of):
    # nothing from that scene on reaches a prompt. None: the source scene, else whole plays.
    horizon: str | None = None
    # A bundled model name or an absolute .gguf path. stage, chat and the arena always
    # name one; this default (the model before 2026-12-04) only fills specs that do not.
    model: str = "smollm2"
    seed: int = 0
    policy: str = "addressed"
    agent: AgentSettings = Field(default_factory=AgentSettings)
    adapters: bool = False  # each character speaks with its active LoRA adapter
    # Scale of the shared stage voice under every character (0: none). None: the default,
    # decided once when the scene is first built (1 where a voice exists for a local
    # llama.cpp base, else 0) and stored as that number.
    stage_voice: float | None = None
    human: str | None = None  # a chat's participant typed by a person ("You" or a character)
    memory: bool = False  # characters remember the play and the scene (dramatis.memory)
    out: str | None = None  # the transcript folder, absolute: resume writes back to it
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


# Tables a scenes database may hold: ours and LangGraph's checkpointer's.
OUR_TABLES = {"dramatis_scenes", "checkpoints", "writes", "checkpoint_migrations"}
SPEC_COLUMNS = ["thread_id", "spec", "created"]


def foreign_tables(tables: set[str]) -> set[str]:
    """Tables in a database that neither dramatis nor its checkpointer made.

    foreign_tables({"checkpoints", "users"}) -> {"users"}
    """
    return {t for t in tables if t not in OUR_TABLES and not t.startswith("sqlite_")}


def open_scenes_db(path: Path) -> sqlite3.Connection:
    """A connection to the scenes database at `path`, checked to be one of ours.

    A damaged or foreign file is refused with a one-line DramatisError saying what to
    do; it is never repaired, emptied or overwritten."""
    aside = f"move it aside (mv {path} {path}.bak) and dramatis starts a new one"
    if path.is_dir():
        raise DramatisError(f"scenes database {path} is a folder, not a file: {aside}")
    try:
        conn = sqlite3.connect(str(path), check_same_thread=False)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        columns = [r[1] for r in conn.execute("PRAGMA table_info(dramatis_scenes)")]
    except sqlite3.DatabaseError as err:
        raise DramatisError(
            f"scenes database {path} is damaged or not SQLite ({err}): {aside}"
        ) from None
    if stray := foreign_tables(tables):
        conn.close()
        raise DramatisError(
            f"scenes database {path} holds tables dramatis did not make "
            f"({', '.join(sorted(stray))}): it belongs to another program; {aside}, "
            "or choose another --home"
        )
    if columns and columns != SPEC_COLUMNS:
        conn.close()
        raise DramatisError(
            f"scenes database {path}: table dramatis_scenes has columns {columns}, "
            f"expected {SPEC_COLUMNS}: {aside}"
        )
    return conn


# Checkpoints kept per scene: each holds the whole transcript, so keeping all of them
# grows the file by O(turns) per turn (quadratic overall). 64 is ~20 turns of history
# (three checkpoints a turn) for undo and inspection; the newest one is all resume needs.
KEEP_CHECKPOINTS = 64
PRUNE_EVERY = 16  # puts between prunes: one small DELETE per ~5 turns


class BoundedSaver(SqliteSaver):
    """A SqliteSaver that keeps only the newest `keep` checkpoints of each thread.

    Pruning runs in its own transaction after a checkpoint is committed and never
    touches the newest ones, so a crash at any point leaves a resumable scene."""

    def __init__(self, conn: sqlite3.Connection, keep: int = KEEP_CHECKPOINTS) -> None:
        super().__init__(conn)
        self.keep = keep
        self._puts = 0

    def put(self, config, checkpoint, metadata, new_versions):  # type: ignore[no-untyped-def]
        saved = super().put(config, checkpoint, metadata, new_versions)
        self._puts += 1
        if self.keep and self._puts % PRUNE_EVERY == 0:
            self.prune_thread(str(config["configurable"]["thread_id"]), self.keep)
        return saved

    def prune_thread(self, thread_id: str, keep: int) -> int:
        """Delete all but the newest `keep` checkpoints of `thread_id` (and their
        pending writes); returns how many checkpoints went."""
        with self.cursor() as cur:
            cur.execute(
                "DELETE FROM checkpoints WHERE thread_id = ? AND checkpoint_id NOT IN "
                "(SELECT checkpoint_id FROM checkpoints WHERE thread_id = ? "
                "ORDER BY checkpoint_id DESC LIMIT ?)",
                (thread_id, thread_id, keep),
            )
            gone = cur.rowcount
            cur.execute(
                "DELETE FROM writes WHERE thread_id = ? AND checkpoint_id NOT IN "
                "(SELECT checkpoint_id FROM checkpoints WHERE thread_id = ?)",
                (thread_id, thread_id),
            )
        return gone


class SceneStore:
    def __init__(self, path: Path, keep: int = KEEP_CHECKPOINTS) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.conn = open_scenes_db(path)
        try:
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS dramatis_scenes "
                "(thread_id TEXT PRIMARY KEY, spec TEXT NOT NULL, created TEXT NOT NULL)"
            )
            self.conn.commit()
        except sqlite3.DatabaseError as err:  # read-only file or folder, full disk
            raise DramatisError(
                f"scenes database {path} cannot be written ({err}): check its permissions "
                "and free space, or choose another --home"
            ) from None
        self.checkpointer = BoundedSaver(self.conn, keep)
        self._locks: list[Path] = []  # lock files this store took

    def claim(self, thread_id: str) -> None:
        """Make this process the scene's only writer, after checking the database.

        A second process that claims the same scene (two `resume`s at once) is refused
        with one line instead of forking its history; the lock goes when the store that
        took it closes or the process ends, however it ends. Within one process a
        scene is claimed once (a chat rebuilding its scene claims it again: a no-op)."""
        self.check_integrity()
        path = lock_path(self.path, thread_id)
        if path not in HELD:
            HELD[path] = take_lock(path, thread_id)
            self._locks.append(path)

    def check_integrity(self) -> None:
        """Refuse a damaged database (`PRAGMA quick_check`) before anything is written."""
        try:
            verdict = [r[0] for r in self.conn.execute("PRAGMA quick_check")]
        except sqlite3.DatabaseError as err:
            verdict = [str(err)]
        if verdict != ["ok"]:
            raise DramatisError(damaged_message(self.path, verdict[0]))

    def turn_counts(self) -> dict[str, int]:
        """Saved turns of every scene (0: a scene that never spoke)."""
        return turn_counts(self.conn)

    def save(self, spec: SceneSpec) -> None:
        """Store the scene's spec. It can be called while the scene's graph runs (stage
        saves a scene with its first turn), so it takes the checkpointer's lock: the two
        share one connection, and a commit of one inside the other's transaction fails."""
        with self.checkpointer.lock:
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
        for path in self._locks:
            if (fd := HELD.pop(path, None)) is not None:
                os.close(fd)  # closing the file releases its lock
        self._locks.clear()
        self.conn.close()


def damaged_message(path: Path, detail: str) -> str:
    """The one line for a scenes database that fails its integrity check."""
    return (
        f"scenes database {path} is damaged ({' '.join(detail.split())[:100]}): nothing was "
        f"written; save what can be saved with `sqlite3 {path} .recover | sqlite3 "
        f"{path}.recovered`, then move it aside (mv {path} {path}.bak)"
    )


def lock_path(db: Path, thread_id: str) -> Path:
    """The lock file of one scene: beside the database, named by a hash of the id
    (ids may hold any character)."""
    digest = hashlib.sha256(thread_id.encode()).hexdigest()[:24]
    return db.parent / "locks" / f"{digest}.lock"


# lock file -> the open descriptor holding its lock: the scenes this process writes.
# Process-wide on purpose: flock conflicts between two descriptors of one process too.
HELD: dict[Path, int] = {}


def take_lock(path: Path, thread_id: str) -> int:
    """An open file descriptor holding an exclusive lock on a scene's lock file; a
    one-line DramatisError when another process holds it or the file cannot be made."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as err:
        raise DramatisError(
            f"cannot make the lock file for scene {thread_id!r} under {path.parent} "
            f"({err.strerror}): check the state folder's permissions, or choose another --home"
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise DramatisError(
            f"scene {thread_id!r} is being written by another dramatis process (pid "
            f"{holder}): wait for it to finish, then resume the scene"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd


UNREADABLE = -1  # turn_counts' count for a scene whose newest checkpoint does not decode


def turn_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """thread id -> turns in its newest checkpoint (plus a turn written but not yet
    checkpointed), for every stored scene; read with plain SQL, so a read-only
    connection serves (`dramatis doctor`)."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "dramatis_scenes" not in tables:
        return {}
    ids = [r[0] for r in conn.execute("SELECT thread_id FROM dramatis_scenes")]
    if "checkpoints" not in tables:
        return dict.fromkeys(ids, 0)
    serde = JsonPlusSerializer()
    counts = {}
    for thread_id in ids:
        row = conn.execute(
            "SELECT checkpoint_id, type, checkpoint FROM checkpoints WHERE thread_id = ? "
            "AND checkpoint_ns = '' ORDER BY checkpoint_id DESC LIMIT 1",
            (thread_id,),
        ).fetchone()
        if row is None:
            counts[thread_id] = 0
            continue
        pending = conn.execute(
            "SELECT type, value FROM writes WHERE thread_id = ? AND checkpoint_id = ? "
            "AND channel = 'turns'",
            (thread_id, row[0]),
        ).fetchall()
        try:
            values = serde.loads_typed((row[1], row[2])).get("channel_values", {})
            written = sum(len(serde.loads_typed((t, v)) or []) for t, v in pending)
            counts[thread_id] = len(values.get("turns", [])) + written
        except Exception:  # a checkpoint that does not decode: its scene cannot resume
            counts[thread_id] = UNREADABLE
    return counts
