"""Every bad input and damaged state we try, run for real, tabled in docs/reliability.md.

    .venv/bin/python benchmarks/bad_inputs.py              # all cases, rewrites the table
    .venv/bin/python benchmarks/bad_inputs.py --only 1-10  # some, printed, docs untouched

Each case prepares its own state folder (a copy of one with a staged scene), runs
`python -m dramatis ...` in a new process, and records its exit code and the first line
it printed on stderr. A case fails the run when the output holds a Python traceback, the
exit code is 1 (an unexpected error) or a signal, or the code is not the one expected.
The table goes between the `bad-inputs` markers of docs/reliability.md.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "reliability.md"
START, END = "<!-- bad-inputs:start -->", "<!-- bad-inputs:end -->"
FAKE = ["--model", "fake", "--turns", "1"]
CAST = ["--cast", "Hamlet,Horatio"]


@dataclass
class Case:
    what: str  # the bad input or damaged state, in words
    args: list[str]  # after `dramatis`; "{home}", "{tmp}", "{thread}" are filled in
    expect: int = 2
    env: dict[str, str] = field(default_factory=dict)
    setup: Callable[[Path, Path], object] | None = None  # (home, tmp); an int: a fd to close
    mount_ro: str = ""  # "home" or "cards": made a read-only file system for the run


# -- state to break ---------------------------------------------------------------------


def write(rel: str, data: bytes | str) -> Callable[[Path, Path], None]:
    def make(home: Path, tmp: Path) -> None:
        path = tmp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)

    return make


def in_home(rel: str, data: bytes | str) -> Callable[[Path, Path], None]:
    def make(home: Path, tmp: Path) -> None:
        path = home / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)

    return make


def sql(statement: str) -> Callable[[Path, Path], None]:
    def make(home: Path, tmp: Path) -> None:
        conn = sqlite3.connect(home / "scenes.sqlite")
        conn.execute(statement)
        conn.commit()
        conn.close()

    return make


def damage_page(home: Path, tmp: Path) -> None:
    db = home / "scenes.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = conn.execute("SELECT rootpage FROM sqlite_master WHERE name='checkpoints'").fetchone()
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with open(db, "r+b") as fh:
        fh.seek((page[0] - 1) * size)
        fh.write(os.urandom(size))


def truncate_db(home: Path, tmp: Path) -> None:
    db = home / "scenes.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    db.write_bytes(db.read_bytes()[:5000])


def empty_scene(home: Path, tmp: Path) -> None:
    conn = sqlite3.connect(home / "scenes.sqlite")
    spec = json.loads(conn.execute("SELECT spec FROM dramatis_scenes").fetchone()[0])
    spec["thread_id"] = "never-spoke"
    conn.execute(
        "INSERT INTO dramatis_scenes VALUES (?, ?, ?)", ("never-spoke", json.dumps(spec), "x")
    )
    conn.commit()
    conn.close()


def spec_edit(change: dict) -> Callable[[Path, Path], None]:
    def make(home: Path, tmp: Path) -> None:
        conn = sqlite3.connect(home / "scenes.sqlite")
        thread, text = conn.execute("SELECT thread_id, spec FROM dramatis_scenes").fetchone()
        spec = {**json.loads(text), **change}
        conn.execute(
            "UPDATE dramatis_scenes SET spec=? WHERE thread_id=?", (json.dumps(spec), thread)
        )
        conn.commit()
        conn.close()

    return make


def png(width: int = 4, height: int = 4, chunks: dict[str, bytes] | None = None) -> bytes:
    """A PNG built by hand: IHDR saying width x height, the given tEXt chunks, one IDAT."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    raw = b"".join(b"\0" + b"\0\0\0" * 4 for _ in range(4))
    text = b"".join(chunk(b"tEXt", k.encode() + b"\0" + v) for k, v in (chunks or {}).items())
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + text
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))  # fmt: skip


def card(**data) -> str:
    body = {"name": "Yorick", "description": "A jester.", "first_mes": "Alas!", **data}
    return json.dumps({"spec": "chara_card_v2", "spec_version": "2.0", "data": body})


def b64(text: str) -> bytes:
    return base64.b64encode(text.encode())


def hold_lock(home: Path, tmp: Path) -> int:
    """This process takes the scene's writer lock, as a running `resume` would; the open
    file holding it, closed when the case is done."""
    from dramatis.agents.scene_store import lock_path, take_lock

    conn = sqlite3.connect(home / "scenes.sqlite")
    thread = conn.execute("SELECT thread_id FROM dramatis_scenes").fetchone()[0]
    conn.close()
    return take_lock(lock_path(home / "scenes.sqlite", thread), thread)


def model_cut_short(home: Path, tmp: Path) -> None:
    (home / "cache").mkdir(exist_ok=True)
    (home / "cache" / "gemma-3-270m-q4_k_m.gguf").write_bytes(b"GGUF" + bytes(65536))


def forged_card(field_name: str, value: str) -> Callable[[Path, Path], None]:
    def make(home: Path, tmp: Path) -> None:
        persona = {"name": "Hamlet", "play": "hamlet", "play_title": "Hamlet"}
        persona[field_name] = value
        data = {"name": persona["name"], "creator": "dramatis", "description": "x",
                "first_mes": "x", "extensions": {"dramatis": persona}}  # fmt: skip
        full = json.dumps({"spec": "chara_card_v2", "spec_version": "2.0", "data": data})
        (tmp / "forged.json").write_text(full)

    return make


def exported_forgery(field_name: str, value: str) -> Callable[[Path, Path], None]:
    """A card `personas export Hamlet` wrote, with its embedded persona edited."""

    def make(home: Path, tmp: Path) -> None:
        out = tmp / "hamlet.json"
        dramatis(["personas", "export", "Hamlet", "--format", "json", "--out", str(out)], {})
        full = json.loads(out.read_text())
        full["data"]["extensions"]["dramatis"][field_name] = value
        out.write_text(json.dumps(full))

    return make


def suite(text: str) -> Callable[[Path, Path], None]:
    return write("suite.yaml", text)


def run_dir(transcript: bytes, scene: bytes | None = None) -> Callable[[Path, Path], None]:
    def make(home: Path, tmp: Path) -> None:
        (tmp / "run").mkdir(exist_ok=True)
        (tmp / "run" / "transcript.jsonl").write_bytes(transcript)
        if scene is not None:
            (tmp / "run" / "scene.json").write_bytes(scene)

    return make


def home_is_file(home: Path, tmp: Path) -> None:
    (tmp / "afile").write_text("not a folder")


def adapter_meta(text: str) -> Callable[[Path, Path], None]:
    return in_home("adapters/hamlet.hamlet/v1/meta.json", text)


def both(*makers: Callable[[Path, Path], None]) -> Callable[[Path, Path], None]:
    def make(home: Path, tmp: Path) -> None:
        for maker in makers:
            maker(home, tmp)

    return make


# -- the cases --------------------------------------------------------------------------

TURN = b'{"speaker": "Hamlet", "text": "Good my lord.", "index": 0}\n'
H = ["--home", "{home}"]
STAGE = ["stage", *CAST, *FAKE, *H, "--out", "{tmp}/out"]

CASES: list[Case] = [
    # environment and model settings
    Case("DRAMATIS_THREADS=100000", STAGE, env={"DRAMATIS_THREADS": "100000"}),
    Case("DRAMATIS_THREADS=-1", STAGE, env={"DRAMATIS_THREADS": "-1"}),
    Case("DRAMATIS_THREADS=lots", STAGE, env={"DRAMATIS_THREADS": "lots"}),
    Case(
        "DRAMATIS_THREADS=64 on a small machine (lowered to its cores)",
        STAGE,
        0,
        {"DRAMATIS_THREADS": "64"},
    ),
    Case("--threads 100000", [*STAGE, "--threads", "100000"]),
    Case("--threads -5", [*STAGE, "--threads", "-5"]),
    Case("DRAMATIS_N_CTX=64", STAGE, env={"DRAMATIS_N_CTX": "64"}),
    Case("DRAMATIS_N_CTX=0", STAGE, env={"DRAMATIS_N_CTX": "0"}),
    Case("DRAMATIS_N_CTX=10000000", STAGE, env={"DRAMATIS_N_CTX": "10000000"}),
    Case("DRAMATIS_N_CTX=big", STAGE, env={"DRAMATIS_N_CTX": "big"}),
    Case("DRAMATIS_CACHE_MB=-1", STAGE, env={"DRAMATIS_CACHE_MB": "-1"}),
    Case(
        "DRAMATIS_HOME is a file",
        ["scenes"],
        env={"DRAMATIS_HOME": "{tmp}/afile"},
        setup=home_is_file,
    ),
    Case("--home is a file", ["scenes", "--home", "{tmp}/afile"], setup=home_is_file),
    Case(
        "DRAMATIS_MODEL names a missing file",
        [x for x in STAGE if x not in ("--model", "fake")],
        env={"DRAMATIS_MODEL": "/nowhere/m.gguf"},
    ),
    # stage options
    Case("--format bogus", [*STAGE, "--format", "bogus"]),
    Case(
        "--format chat on Gemma 3 270M (a base model, no chat template)",
        ["stage", *CAST, "--turns", "1", *H, "--format", "chat", "--threads", "1"],
    ),
    Case("--set max_tokens=20", [*STAGE, "--set", "max_tokens=20"], 0),
    Case("--set max_tokens=2", [*STAGE, "--set", "max_tokens=2"]),
    Case("--set temperature=-1", [*STAGE, "--set", "temperature=-1"]),
    Case("--set top_p=5", [*STAGE, "--set", "top_p=5"]),
    Case("--set retries=-5", [*STAGE, "--set", "retries=-5"]),
    Case("--set best_of=0", [*STAGE, "--set", "best_of=0"]),
    Case(
        "--set best_of=1000000 (a turn that would never end)", [*STAGE, "--set", "best_of=1000000"]
    ),
    Case("--set nosuch=1", [*STAGE, "--set", "nosuch=1"]),
    Case("--set bestof=3 (misspelt)", [*STAGE, "--set", "bestof=3"]),
    Case("--set max_tokens (no value)", [*STAGE, "--set", "max_tokens"]),
    Case("--set max_tokens=many", [*STAGE, "--set", "max_tokens=many"]),
    Case("--set move_on=perhaps", [*STAGE, "--set", "move_on=perhaps"]),
    Case("--set =3", [*STAGE, "--set", "=3"]),
    Case("--set presence_penalty=nan", [*STAGE, "--set", "presence_penalty=nan"]),
    Case("--set temperature=inf", [*STAGE, "--set", "temperature=inf"]),
    Case("--max-tokens 0", [*STAGE, "--max-tokens", "0"]),
    Case("--temperature 99", [*STAGE, "--temperature", "99"]),
    Case("--turns 0", [*STAGE, "--turns", "0"]),
    Case("--turns many", [*STAGE, "--turns", "many"]),
    Case("--seed abc", [*STAGE, "--seed", "abc"]),
    Case("--policy bogus", [*STAGE, "--policy", "bogus"]),
    Case("--cast ''", ["stage", "--cast", "", *FAKE, *H]),
    Case("--cast ',,'", ["stage", "--cast", ",,", *FAKE, *H]),
    Case(
        "--cast names one character twice (hamlet:Hamlet,Hamlet)",
        ["stage", "--cast", "hamlet:Hamlet,Hamlet", *FAKE, *H],
    ),
    Case("--cast 'hamlet:'", ["stage", "--cast", "hamlet:", *FAKE, *H]),
    Case("--cast nosuchplay:Hamlet", ["stage", "--cast", "nosuchplay:Hamlet", *FAKE, *H]),
    Case("--cast hamlet:Nobody", ["stage", "--cast", "hamlet:Nobody,Hamlet", *FAKE, *H]),
    Case("--scene hamlet (no act.scene)", [*STAGE, "--scene", "hamlet"]),
    Case("--scene hamlet:9.9", [*STAGE, "--scene", "hamlet:9.9"]),
    Case("--scene nosuch:1.1", [*STAGE, "--scene", "nosuch:1.1"]),
    Case("--setting of 100 KB", [*STAGE, "--setting", "A hall. " * 12800], 0),
    Case(
        "--model names a missing .gguf",
        ["stage", *CAST, "--turns", "1", *H, "--model", "{tmp}/none.gguf"],
    ),
    Case(
        "--model names a text file",
        ["stage", *CAST, "--turns", "1", *H, "--model", "{tmp}/m.gguf"],
        setup=write("m.gguf", "hello"),
    ),
    Case(
        "--model names an empty file",
        ["stage", *CAST, "--turns", "1", *H, "--model", "{tmp}/e.gguf"],
        setup=write("e.gguf", b""),
    ),
    Case(
        "--model names a folder with no .gguf",
        ["stage", *CAST, "--turns", "1", *H, "--model", "{tmp}"],
    ),
    Case(
        "--model openai:not-a-url",
        ["stage", *CAST, "--turns", "1", *H, "--model", "openai:not-a-url"],
    ),
    Case(
        "--model openai: server that is not running",
        ["stage", *CAST, "--turns", "1", *H, "--model", "openai:http://127.0.0.1:9/v1#m"],
    ),
    Case("--adapters on the fake model", [*STAGE, "--adapters"]),
    Case("--stage-voice 5", [*STAGE, "--stage-voice", "5"]),
    Case("--stage-voice -1", [*STAGE, "--stage-voice", "-1"]),
    Case("--out is a file", [*STAGE[:-2], "--out", "{tmp}/afile"], setup=home_is_file),
    Case("--out under /proc", [*STAGE[:-2], "--out", "/proc/dramatis-out"]),
    Case("unknown option --frobnicate", [*STAGE, "--frobnicate"]),
    # resume and saved scenes
    Case("resume an unknown thread id", ["resume", "no-such-scene", *H]),
    Case("resume a misspelt thread id", ["resume", "{thread}x", *H]),
    Case("resume with --turns 0", ["resume", "{thread}", "--turns", "0", *H]),
    Case(
        "resume a scene saved with no turns",
        ["resume", "never-spoke", "--turns", "1", *H],
        0,
        setup=empty_scene,
    ),
    Case(
        "resume while another process writes the scene", ["resume", "{thread}", *H], setup=hold_lock
    ),
    Case(
        "resume with one database page overwritten", ["resume", "{thread}", *H], setup=damage_page
    ),
    Case("scenes.sqlite cut to 5000 bytes", ["resume", "{thread}", *H], setup=truncate_db),
    Case(
        "scenes.sqlite is not SQLite",
        ["scenes", *H],
        setup=in_home("scenes.sqlite", b"\0garbage" * 64),
    ),
    Case(
        "scenes.sqlite is a folder",
        ["scenes", *H],
        setup=lambda h, t: ((h / "scenes.sqlite").unlink(), (h / "scenes.sqlite").mkdir()),
    ),
    Case(
        "scenes.sqlite holds another program's tables",
        ["scenes", *H],
        setup=sql("CREATE TABLE invoices (id INTEGER)"),
    ),
    Case(
        "dramatis_scenes has other columns",
        ["scenes", *H],
        setup=lambda h, t: (
            sql("DROP TABLE dramatis_scenes")(h, t),
            sql("CREATE TABLE dramatis_scenes (a, b)")(h, t),
        ),
    ),
    Case(
        "a stored spec with an unknown field",
        ["resume", "{thread}", *H],
        setup=spec_edit({"colour": "red"}),
    ),
    Case(
        "a stored spec with a bad type",
        ["resume", "{thread}", *H],
        setup=spec_edit({"seed": "seven"}),
    ),
    Case(
        "a stored spec that is not JSON",
        ["resume", "{thread}", *H],
        setup=sql("UPDATE dramatis_scenes SET spec='{'"),
    ),
    Case(
        "a stored spec naming a missing model file",
        ["resume", "{thread}", *H],
        setup=spec_edit({"model": "/nowhere/m.gguf"}),
    ),
    Case(
        "a stored spec whose play is gone",
        ["resume", "{thread}", *H],
        setup=spec_edit({"plays": {"Hamlet": "nosuch", "Horatio": "hamlet"}}),
    ),
    Case(
        "resume --out is a file",
        ["resume", "{thread}", *H, "--out", "{tmp}/afile"],
        setup=home_is_file,
    ),
    Case("scenes --json on a healthy home", ["scenes", "--json", *H], 0),
    # doctor
    Case("doctor: a cached model cut short", ["doctor", *H], setup=model_cut_short),
    Case(
        "doctor: a damaged card in HOME/cards",
        ["doctor", *H],
        setup=in_home("cards/broken.json", "{"),
    ),
    Case("doctor: a scene with no turns", ["doctor", *H], 0, setup=empty_scene),
    Case("doctor: a database page overwritten", ["doctor", *H], setup=damage_page),
    Case("doctor: an adapter meta.json that is not JSON", ["doctor", *H], setup=adapter_meta("{")),
    Case("doctor: the home is a file", ["doctor", "--home", "{tmp}/afile"], setup=home_is_file),
    Case("doctor: a read-only home with a healthy WAL database", ["doctor", *H], mount_ro="home"),
    Case(
        "doctor: an empty read-only home", ["doctor", "--home", "{tmp}/ro-empty"], mount_ro="empty"
    ),
    # character cards
    Case("import a card file that does not exist", ["personas", "import", "{tmp}/none.json", *H]),
    Case("import a folder", ["personas", "import", "{tmp}", *H]),
    Case(
        "import an empty file",
        ["personas", "import", "{tmp}/c.json", *H],
        setup=write("c.json", ""),
    ),
    Case(
        "import a card that is not JSON",
        ["personas", "import", "{tmp}/c.json", *H],
        setup=write("c.json", "{name: x"),
    ),
    Case(
        "import a card that is not UTF-8",
        ["personas", "import", "{tmp}/c.json", *H],
        setup=write("c.json", b'{"name": "\xff"}'),
    ),
    Case(
        "import a JSON array",
        ["personas", "import", "{tmp}/c.json", *H],
        setup=write("c.json", "[1, 2]"),
    ),
    Case(
        "import a card with no name",
        ["personas", "import", "{tmp}/c.json", *H],
        setup=write("c.json", card(name="")),
    ),
    Case(
        "import a card whose name is a number",
        ["personas", "import", "{tmp}/c.json", *H],
        setup=write("c.json", card(name=7)),
    ),
    Case(
        "import a card nested 100000 deep",
        ["personas", "import", "{tmp}/c.json", *H],
        setup=write("c.json", "[" * 100000),
    ),
    Case(
        "import a card with a 300-character name",
        ["personas", "import", "{tmp}/c.json", *H],
        0,
        setup=write("c.json", card(name="Y" * 300)),
    ),
    Case(
        "import a card with a 120 KB greeting",
        ["personas", "import", "{tmp}/c.json", *H],
        0,
        setup=write("c.json", card(first_mes="Alas! " * 20000)),
    ),
    Case(
        "import a PNG cut short",
        ["personas", "import", "{tmp}/c.png", *H],
        setup=write("c.png", png(chunks={"chara": b64(card())})[:40]),
    ),
    Case(
        "import a PNG with a bad CRC",
        ["personas", "import", "{tmp}/c.png", *H],
        setup=write("c.png", png(chunks={"chara": b64(card())})[:-1] + b"\0"),
    ),
    Case(
        "import a PNG with no card in it",
        ["personas", "import", "{tmp}/c.png", *H],
        setup=write("c.png", png()),
    ),
    Case(
        "import a PNG whose card chunk is not base64",
        ["personas", "import", "{tmp}/c.png", *H],
        setup=write("c.png", png(chunks={"chara": b"%%%"})),
    ),
    Case(
        "import a 900-megapixel PNG card",
        ["personas", "import", "{tmp}/c.png", *H],
        setup=write("c.png", png(30000, 30000, {"chara": b64(card())})),
    ),
    Case(
        "import a 100-megapixel PNG card",
        ["personas", "import", "{tmp}/c.png", *H],
        setup=write("c.png", png(10000, 10000, {"chara": b64(card())})),
    ),
    Case(
        "import a PNG card of 400 x 600",
        ["personas", "import", "{tmp}/c.png", *H],
        0,
        setup=write("c.png", png(400, 600, {"chara": b64(card())})),
    ),
    Case(
        "import with the home a file",
        ["personas", "import", "{tmp}/c.json", "--home", "{tmp}/afile"],
        setup=both(home_is_file, write("c.json", card())),
    ),
    Case(
        "import into a read-only HOME/cards",
        ["personas", "import", "{tmp}/c.json", *H],
        setup=write("c.json", card()),
        mount_ro="cards",
    ),
    Case(
        "import the same card twice without --force",
        ["personas", "import", "{tmp}/c.json", *H],
        setup=both(write("c.json", card()), in_home("cards/yorick.json", card())),
    ),
    Case(
        "import a dramatis card naming an unknown play",
        ["personas", "import", "{tmp}/hamlet.json", *H],
        setup=exported_forgery("play", "nosuch"),
    ),
    Case(
        "import a dramatis card naming someone who never speaks",
        ["personas", "import", "{tmp}/hamlet.json", *H],
        setup=exported_forgery("name", "Gandalf"),
    ),
    Case("export an unknown persona", ["personas", "export", "Nobody", "--out", "{tmp}/x.png", *H]),
    Case(
        "export --format gif",
        ["personas", "export", "Hamlet", "--format", "gif", "--out", "{tmp}/x.gif", *H],
    ),
    Case(
        "export over an existing file",
        ["personas", "export", "Hamlet", "--out", "{tmp}/afile", *H],
        setup=home_is_file,
    ),
    Case("personas show with an empty name", ["personas", "show", ""]),
    Case("personas show nosuch:Hamlet", ["personas", "show", "nosuch:Hamlet"]),
    # arena
    Case("arena score a missing folder", ["arena", "score", "{tmp}/none", "--no-baselines"]),
    Case(
        "arena score a transcript that is not UTF-8",
        ["arena", "score", "{tmp}/run", "--no-baselines"],
        setup=run_dir(b'{"speaker": "Hamlet", "text": "caf\xe9"}\n'),
    ),
    Case(
        "arena score a transcript line that is not JSON",
        ["arena", "score", "{tmp}/run", "--no-baselines"],
        setup=run_dir(b"{oops\n"),
    ),
    Case(
        "arena score a turn with no speaker",
        ["arena", "score", "{tmp}/run", "--no-baselines"],
        setup=run_dir(b'{"text": "hi"}\n'),
    ),
    Case(
        "arena score with scene.json a list",
        ["arena", "score", "{tmp}/run", "--no-baselines"],
        setup=run_dir(TURN, b"[1]"),
    ),
    Case(
        "arena score with scene.json not JSON",
        ["arena", "score", "{tmp}/run", "--no-baselines"],
        setup=run_dir(TURN, b"{"),
    ),
    Case("arena run a missing suite", ["arena", "run", "{tmp}/none.yaml", "--out", "{tmp}/o"]),
    Case(
        "arena run a suite that is not YAML",
        ["arena", "run", "{tmp}/suite.yaml", "--out", "{tmp}/o"],
        setup=suite("a: [b"),
    ),
    Case(
        "arena run a suite with an unknown key",
        ["arena", "run", "{tmp}/suite.yaml", "--out", "{tmp}/o"],
        setup=suite("name: x\ncolour: red\n"),
    ),
    Case("arena report on a folder with no scores", ["arena", "report", "{tmp}"]),
    # training and adapters
    Case("train with --steps 0", ["train", "Hamlet", "--steps", "0", *H]),
    Case("train with --minutes 0", ["train", "Hamlet", "--minutes", "0", *H]),
    Case("train with --r 0", ["train", "Hamlet", "--r", "0", *H]),
    Case("train with no name", ["train", *H]),
    Case("adapters activate an unknown version", ["adapters", "activate", "Hamlet", "v9", *H]),
    Case("adapters activate version 'nine'", ["adapters", "activate", "Hamlet", "nine", *H]),
    Case("adapters rollback with no history", ["adapters", "rollback", "Hamlet", *H]),
    Case(
        "adapters list with a meta.json that is not JSON",
        ["adapters", "list", *H],
        setup=adapter_meta("{"),
    ),
    Case(
        "adapters list with a meta.json missing fields",
        ["adapters", "list", *H],
        setup=adapter_meta('{"character": "Hamlet"}'),
    ),
    # memory and plays
    Case("memory show an unknown scene", ["memory", "show", "no-such-scene", *H]),
    Case(
        "DRAMATIS_MEMORY_STORE is a file",
        ["memory", "show", "{thread}", *H],
        env={"DRAMATIS_MEMORY_STORE": "{tmp}/afile"},
        setup=home_is_file,
    ),
    Case("play stats of an unknown play", ["play", "stats", "nosuchplay"]),
    Case("prompt for an unknown character", ["prompt", "Nobody", "--play", "hamlet"]),
]


# -- running ----------------------------------------------------------------------------


def dramatis(
    args: list[str], env: dict[str, str], timeout: float = 600
) -> subprocess.CompletedProcess:
    full = {**os.environ, "COLUMNS": "200", "DRAMATIS_THREADS": "1", **env}
    return subprocess.run(
        [sys.executable, "-m", "dramatis", *args],
        capture_output=True, text=True, env=full, timeout=timeout, errors="replace",
    )  # fmt: skip


def template(root: Path) -> tuple[Path, str]:
    """A state folder with one staged scene (fake model, two turns): what cases break."""
    home = root / "template"
    done = dramatis(["stage", *CAST, "--model", "fake", "--turns", "2", "--home", str(home),
                     "--out", str(root / "template-out")], {})  # fmt: skip
    if done.returncode:
        raise SystemExit(f"could not stage the template scene: {done.stderr}")
    conn = sqlite3.connect(home / "scenes.sqlite")
    thread = conn.execute("SELECT thread_id FROM dramatis_scenes").fetchone()[0]
    conn.close()
    return home, thread


def message(stderr: str, stdout: str) -> str:
    """The first line that says something: doctor's first BAD line, an `error:` line, a
    usage box's own line, else the first line printed."""
    for line in stdout.splitlines():
        if line.startswith("BAD"):
            return line
    for line in (stderr + "\n" + stdout).splitlines():
        text = line.strip(" │╭╮╰╯─")
        if text.startswith("error:") or "Invalid value" in text or "No such option" in text:
            return text
    for line in (stderr or stdout).splitlines():
        text = line.strip(" │╭╮╰╯─")
        if text and not text.startswith(("Usage:", "Try ")):
            return text
    return ""


def mount_read_only(source: Path, target: Path) -> bool:
    target.mkdir(parents=True, exist_ok=True)
    if subprocess.run(
        ["mount", "--bind", str(source), str(target)], capture_output=True
    ).returncode:
        return False
    return not subprocess.run(["mount", "-o", "remount,bind,ro", str(target)]).returncode


def run_case(case: Case, root: Path, home0: Path, thread: str) -> dict:
    tmp = Path(tempfile.mkdtemp(dir=root))
    home = tmp / "home"
    shutil.copytree(home0, home)
    held = case.setup(home, tmp) if case.setup else None
    mounted: list[Path] = []
    where = home
    if case.mount_ro == "home":
        where = tmp / "ro"
        mounted.append(where)
    elif case.mount_ro == "empty":
        (tmp / "empty").mkdir()
        mounted.append(tmp / "ro-empty")
    elif case.mount_ro == "cards":
        (home / "cards").mkdir(exist_ok=True)
        mounted.append(home / "cards")
    for target in mounted:
        source = {"home": home, "empty": tmp / "empty", "cards": home / "cards"}[case.mount_ro]
        if target == source:
            if (
                subprocess.run(["mount", "--bind", str(source), str(target)]).returncode
                or subprocess.run(["mount", "-o", "remount,bind,ro", str(target)]).returncode
            ):
                return {"skipped": "cannot mount read-only here"}
        elif not mount_read_only(source, target):
            return {"skipped": "cannot mount read-only here"}
    fill = {"home": str(where), "tmp": str(tmp), "thread": thread}
    args = [a.format(**fill) for a in case.args]
    env = {k: v.format(**fill) for k, v in case.env.items()}
    began = time.perf_counter()
    try:
        done = dramatis(args, env)
    finally:
        for target in reversed(mounted):
            subprocess.run(["umount", str(target)], check=True)
        if isinstance(held, int):
            os.close(held)
    out = done.stdout + done.stderr
    if "Traceback (most recent call last)" in out:
        print(out[-1500:], file=sys.stderr)  # for whoever looks into it
    return {
        "code": done.returncode,
        "message": message(done.stderr, done.stdout),
        "traceback": "Traceback (most recent call last)" in out,
        "seconds": round(time.perf_counter() - began, 1),
        "tmp": str(tmp),
        "command": " ".join(["dramatis", *(a if len(a) < 40 else a[:20] + "…" for a in case.args)]),
    }


def table(rows: list[tuple[int, Case, dict]]) -> str:
    lines = ["| # | bad input or damaged state | command | exit | what it says |",
             "| --- | --- | --- | --- | --- |"]  # fmt: skip
    for number, case, r in rows:
        said = r["message"].replace("|", "\\|").replace(r["tmp"], "{tmp}")
        limit = 220 if r["code"] else 100  # a case that was taken: its first line of output
        if len(said) > limit:
            said = said[: limit - 1] + "…"
        command = r["command"].replace("|", "\\|")
        lines.append(f"| {number} | {case.what} | `{command}` | {r['code']} | {said} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="case numbers, e.g. 1-10,14")
    parser.add_argument("--jobs", type=int, default=3, help="cases run at once")
    opts = parser.parse_args()
    chosen = set()
    for part in filter(None, opts.only.split(",")):
        low, _, high = part.partition("-")
        chosen.update(range(int(low), int(high or low) + 1))
    root = Path(tempfile.mkdtemp(prefix="dramatis-bad-"))
    home0, thread = template(root)
    rows, failures = [], []
    todo = [(n, c) for n, c in enumerate(CASES, 1) if not chosen or n in chosen]
    with ThreadPoolExecutor(opts.jobs) as pool:  # each case is its own process
        results = pool.map(lambda nc: run_case(nc[1], root, home0, thread), todo)
        done = list(zip(todo, results, strict=True))
    for (number, case), result in done:
        if "skipped" in result:
            print(f"{number:3} skipped: {result['skipped']}", flush=True)
            continue
        bad = result["traceback"] or result["code"] != case.expect
        if bad:
            failures.append(number)
        print(f"{number:3} {'FAIL' if bad else 'ok  '} {result['code']:3} {result['seconds']:5}s "
              f"{case.what}: {result['message'][:150]}", flush=True)  # fmt: skip
        rows.append((number, case, result))
    tracebacks = sum(r["traceback"] for _, _, r in rows)
    unexpected = sum(r["code"] == 1 for _, _, r in rows)
    summary = (f"{len(rows)} cases · {tracebacks} tracebacks · {unexpected} unexpected errors "
               f"(exit 1) · {len(failures)} not as expected{': ' + str(failures) if failures else ''}")  # fmt: skip
    print(summary)
    shutil.rmtree(root, ignore_errors=True)
    if not chosen:
        text = DOC.read_text(encoding="utf-8")
        head, _, rest = text.partition(START)
        _, _, tail = rest.partition(END)
        made = f"{START}\n{summary} (`.venv/bin/python benchmarks/bad_inputs.py`)\n\n{table(rows)}\n{END}"
        DOC.write_text(head + made + tail, encoding="utf-8")
    raise SystemExit(1 if failures else 0)


if __name__ == "__main__":
    main()
