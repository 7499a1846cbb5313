"""Property tests: whatever a user types or leaves on disk, dramatis raises nothing but
a DramatisError (one line, exit 2 on the command line).

The default run tries a modest number of examples per target; `-m slow` runs the same
properties with many more (`--hypothesis-show-statistics` prints the counts).
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import dramatis.staging
from dramatis import doctor
from dramatis.cli import app
from dramatis.core.errors import DramatisError
from dramatis.core.settings import Settings
from dramatis.memory.graph import GRAPH_FORMAT, MemoryGraph
from dramatis.memory.knowledge import knows_about, prompt_facts, relation
from dramatis.memory.stamp import STAMP, STORE_FORMAT
from dramatis.memory.store import COLLECTIONS, check_stamp
from dramatis.memory.survey import survey_store
from dramatis.personas import find_persona, parse_play
from dramatis.staging import opening_from_play, parse_cast
from dramatis.training.registry import AdapterRegistry

FEW = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
MANY = settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))

# Text that looks like a play often enough to reach deep into the parser.
PLAY_BITS = st.sampled_from(
    ["ACT I.", "ACT V", "SCENE 2.", "Scene III. A room.", "HAMLET.", "Ham.", "Lady M.",
     "[Enter Hamlet.]", "[Exeunt.]", "Enter GHOST", "To be, or not to be.", "", " ", "\t",
     "FINIS", "THE END", "Dramatis Personae", "ACT", "SCENE", ".", "[", "]", "I.", "V."]
)  # fmt: skip
PLAY_TEXT = st.lists(st.one_of(PLAY_BITS, st.text(max_size=30)), max_size=60).map("\n".join)
NAMES = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["Hamlet", "Ophelia", "Lady Macbeth", "macbeth:Banquo", "hamlet:", ":"]),
)


def only_user_errors(fn, *args):
    """Call fn; a DramatisError is fine (and must be one line), anything else fails."""
    try:
        return fn(*args)
    except DramatisError as err:
        assert str(err) and "\n" not in str(err).strip(), repr(err)
        return None


def check_parser(text: str) -> None:
    play = only_user_errors(parse_play, text)
    if play is not None:  # what the parser returns holds together
        for speech in play.speeches():
            assert speech.speaker.strip()


@FEW
@given(PLAY_TEXT)
@example("Dramatis Personae\n.")  # found by the fuzz: an IndexError in the persons list
def test_parser_takes_any_text(text):
    check_parser(text)


@pytest.mark.slow
@settings(MANY, max_examples=5000)  # the parser is fast: many more
@given(st.one_of(PLAY_TEXT, st.text()))
def test_parser_takes_any_text_many(text):
    check_parser(text)


CAST_REFS = st.lists(
    st.one_of(NAMES, st.builds("hamlet:{}".format, st.text(max_size=12))), max_size=5
).map(",".join)
SCENE_REFS = st.one_of(
    st.text(max_size=20),
    st.builds("{}:{}".format, st.sampled_from(["hamlet", "macbeth", "nope", ""]), st.text(max_size=8)),
    st.builds("hamlet:{}.{}".format, st.integers(-2, 9), st.integers(-2, 9)),
)  # fmt: skip


def check_references(cast: str, scene: str) -> None:
    names = only_user_errors(parse_cast, cast) or []
    for name in names:
        if ":" in name:  # play-qualified: one play to parse; bare names search them all
            only_user_errors(find_persona, name)
    only_user_errors(opening_from_play, scene)


@FEW
@given(CAST_REFS, SCENE_REFS)
@example("HA:", "")  # found by the fuzz: an empty name after the play raised IndexError
def test_cast_and_scene_references(cast, scene):
    check_references(cast, scene)


@pytest.mark.slow
@MANY
@given(CAST_REFS, SCENE_REFS)
def test_cast_and_scene_references_many(cast, scene):
    check_references(cast, scene)


OPTION_VALUES = st.one_of(
    st.text(max_size=12), st.integers(-5, 10**12).map(str), st.sampled_from(["", "-1", "nan", "1e309"])
)  # fmt: skip
STAGE_ARGS = st.lists(
    st.tuples(
        st.sampled_from(
            ["--cast", "--scene", "--turns", "--seed", "--model", "--policy", "--max-tokens",
             "--temperature", "--threads", "--setting", "--bogus"]
        ),
        OPTION_VALUES,
    ),
    max_size=6,
)  # fmt: skip


class Reached(Exception):
    """The command got as far as loading a model: every option was accepted."""


def check_cli(args: list[str], home: Path) -> None:
    result = CliRunner().invoke(app, args, env={"DRAMATIS_HOME": str(home)})
    if isinstance(result.exception, Reached):
        return
    assert result.exit_code in (0, 2), (args, result.output, result.exception)
    assert "Traceback" not in result.output


@pytest.fixture
def no_model(monkeypatch):
    """Stop `stage`/`resume` where the model would load (the fuzz is about the options)."""

    def stop(*_a, **_k):
        raise Reached

    monkeypatch.setattr(dramatis.staging, "build_scene", stop)


def flatten(pairs):
    return [part for pair in pairs for part in pair]


@FEW
@given(STAGE_ARGS, st.sampled_from(["stage", "resume", "scenes", "adapters list"]))
def test_cli_options(tmp_path_factory, no_model, pairs, command):
    home = tmp_path_factory.mktemp("home")
    check_cli([*command.split(), *flatten(pairs)], home)


@pytest.mark.slow
@MANY
@given(STAGE_ARGS, st.sampled_from(["stage", "resume", "scenes", "adapters list"]))
def test_cli_options_many(tmp_path_factory, no_model, pairs, command):
    home = tmp_path_factory.mktemp("home")
    check_cli([*command.split(), *flatten(pairs)], home)


ENV_VALUES = st.one_of(
    st.text(max_size=10), st.integers(-10, 10**6).map(str), st.sampled_from(["inf", "nan", "1e400", " 2 "])
)  # fmt: skip


def check_settings(threads: str, cache: str, home_name: str, base: Path) -> None:
    env = {"DRAMATIS_THREADS": threads, "DRAMATIS_CACHE_MB": cache}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update({k: v.replace("\0", "") for k, v in env.items()})
    try:
        loaded = only_user_errors(Settings.load)
        if loaded is not None:
            home = base / home_name.replace("\0", "").replace("/", "_")[:40]
            only_user_errors(Settings(home=home).ensure)
    finally:
        for k, v in old.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


@FEW
@given(ENV_VALUES, ENV_VALUES, st.text(max_size=20))
def test_settings_and_environment(tmp_path_factory, threads, cache, home_name):
    check_settings(threads, cache, home_name, tmp_path_factory.mktemp("s"))


@pytest.mark.slow
@MANY
@given(ENV_VALUES, ENV_VALUES, st.text(max_size=20))
def test_settings_and_environment_many(tmp_path_factory, threads, cache, home_name):
    check_settings(threads, cache, home_name, tmp_path_factory.mktemp("s"))


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)  # fmt: skip
META_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "character": JSONISH | st.just("Hamlet"), "play": JSONISH | st.just("hamlet"),
        "version": JSONISH | st.integers(0, 3), "base_model": JSONISH, "base_sha256": JSONISH,
        "data_sha256": JSONISH, "ppl_before": JSONISH, "ppl_after": JSONISH,
    },
)  # fmt: skip
FILE_TEXT = st.one_of(META_FIELDS.map(json.dumps), JSONISH.map(json.dumps), st.text(max_size=40))
POINTER_TEXT = st.one_of(
    st.fixed_dictionaries({}, optional={"version": JSONISH, "history": JSONISH}).map(json.dumps),
    st.text(max_size=20),
)


def check_registry(meta: str, pointer: str | None, root: Path) -> None:
    folder = root / "hamlet.hamlet"
    (folder / "v1").mkdir(parents=True)
    (folder / "v1" / "meta.json").write_text(meta)
    if pointer is not None:
        (folder / "active.json").write_text(pointer)
    registry = AdapterRegistry(root)
    chars = only_user_errors(registry.characters) or []
    for character, play in chars:
        only_user_errors(registry.active, character, play)
        only_user_errors(registry.find_character, character)


@FEW
@given(FILE_TEXT, st.none() | POINTER_TEXT)
def test_adapter_registry_metadata(tmp_path_factory, meta, pointer):
    check_registry(meta, pointer, tmp_path_factory.mktemp("adapters"))


@pytest.mark.slow
@MANY
@given(FILE_TEXT, st.none() | POINTER_TEXT)
def test_adapter_registry_metadata_many(tmp_path_factory, meta, pointer):
    check_registry(meta, pointer, tmp_path_factory.mktemp("adapters"))


@functools.cache
def sqlite_bytes(sql: str) -> bytes:
    """The bytes of a small SQLite file made by `sql` (a stand-in collection file)."""
    import sqlite3
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(Path(tmp) / "x.sqlite")
        conn.executescript(sql)
        conn.commit()
        conn.close()
        return (Path(tmp) / "x.sqlite").read_bytes()


def as_json(value: object) -> bytes:
    return json.dumps(value).encode()


STAMP_DOC = st.fixed_dictionaries(
    {},
    optional={
        "format": st.just(STORE_FORMAT) | st.sampled_from(["dramatis-memory-store/0", "a\nb"]) | JSONISH,
        "model": st.just("all-MiniLM-L6-v2") | JSONISH, "dim": st.just(384) | JSONISH,
    },
)  # fmt: skip
GOOD_STAMP = as_json({"format": STORE_FORMAT, "model": "all-MiniLM-L6-v2", "dim": 384})
GOOD_META = as_json({"collections": {name: {"vectors": {"size": 384}} for name in COLLECTIONS}})


def often(good: bytes, other: st.SearchStrategy) -> st.SearchStrategy:
    """`good` two times in three, else `other`: most examples get past the first check."""
    return st.integers(0, 2).flatmap(lambda k: st.just(good) if k else other)


STAMP_BYTES = often(
    GOOD_STAMP,
    st.one_of(STAMP_DOC.map(as_json), JSONISH.map(as_json), st.binary(max_size=64), st.none()),
)
COLLECTION_DOC = st.one_of(
    JSONISH,
    st.fixed_dictionaries(
        {}, optional={"vectors": JSONISH | st.fixed_dictionaries({"size": st.just(384) | JSONISH})}
    ),
)
META_DOC = st.fixed_dictionaries(
    {},
    optional={
        "collections": JSONISH | st.dictionaries(
            st.sampled_from([*COLLECTIONS, "../x", ""]) | st.text(max_size=6), COLLECTION_DOC, max_size=3
        )
    },
)  # fmt: skip
META_BYTES = often(
    GOOD_META,
    st.one_of(META_DOC.map(as_json), JSONISH.map(as_json), st.binary(max_size=64), st.none()),
)
GOOD_ROWS = (
    "CREATE TABLE points (id TEXT PRIMARY KEY, point BLOB); INSERT INTO points VALUES ('a', x'80');"
)
ROWS_BYTES = often(
    sqlite_bytes(GOOD_ROWS),
    st.one_of(
        st.binary(max_size=200),
        st.sampled_from(["CREATE TABLE points (id TEXT, other BLOB);", "CREATE TABLE stray (x);"]).map(sqlite_bytes),
        st.none(),
    ),
)  # fmt: skip
STORE_FILES = (STAMP_BYTES, META_BYTES, ROWS_BYTES)


def check_memory_store(stamp: bytes | None, meta: bytes | None, rows: bytes | None, root: Path):
    """Stamp, meta.json and collection files of any content: a DramatisError or a survey."""
    folder = root / "store"
    folder.mkdir()
    for name, content in [(STAMP, stamp), ("meta.json", meta)]:
        if content is not None:
            (folder / name).write_bytes(content)
    for name in COLLECTIONS if rows is not None else ():
        (folder / "collection" / name).mkdir(parents=True)
        (folder / "collection" / name / "storage.sqlite").write_bytes(rows)  # type: ignore[arg-type]
    only_user_errors(check_stamp, folder)
    survey = only_user_errors(survey_store, folder)
    finding = doctor.check_memory_store(folder)
    assert finding.ok == (survey is not None or not any(folder.iterdir())), finding
    assert "\n" not in finding.line()
    event(outcome(finding))


def outcome(finding: doctor.Finding) -> str:
    """Which check decided, for --hypothesis-show-statistics: how deep the fuzz reached."""
    if finding.ok:
        return "ok: " + ("points counted" if "point" in finding.detail else "empty")
    marks = ["no dramatis", "stamp", "another dramatis version", "embeddings", "meta.json"]
    return "BAD: " + next((m for m in marks if m in finding.detail), "collection file")


@FEW
@given(*STORE_FILES)
@example(b"[" * 100_000, None, None)  # nesting deeper than Python's recursion limit
@example(as_json({"format": "a\nb"}), None, None)  # a stamp value that would break the line
def test_memory_store_files(tmp_path_factory, stamp, meta, rows):
    check_memory_store(stamp, meta, rows, tmp_path_factory.mktemp("memory"))


@pytest.mark.slow
@MANY
@given(*STORE_FILES)
def test_memory_store_files_many(tmp_path_factory, stamp, meta, rows):
    check_memory_store(stamp, meta, rows, tmp_path_factory.mktemp("memory"))


def mostly(good: st.SearchStrategy, other: st.SearchStrategy = JSONISH) -> st.SearchStrategy:
    """`good` nine times in ten, else `other`: most graphs load, some fields are wrong."""
    return st.floats(0, 1).flatmap(lambda x: good if x < 0.9 else other)


NAME = mostly(st.sampled_from(["Hamlet", "Ophelia"]))
MOMENTS = mostly(
    st.sampled_from(["1.2", "3.4", "3.4+2", "5.2"]), st.sampled_from(["", "x", "9"]) | JSONISH
)
EDGE_FIELDS = {
    "from": NAME, "to": NAME, "key": mostly(st.sampled_from(["met", "kin", "died"])),
    "head": NAME, "relation": mostly(st.sampled_from(["met", "kin", "died"])), "tail": NAME,
    "since": MOMENTS, "until": mostly(st.none(), MOMENTS), "source": mostly(st.just("play")),
    "witnesses": mostly(st.lists(NAME, max_size=2)), "public": mostly(st.booleans()),
    "detail": mostly(st.just("")), "count": mostly(st.integers(0, 3)),
}  # fmt: skip
NODE_FIELDS = {"id": NAME, "kind": mostly(st.just("character")), "died": mostly(st.none(), MOMENTS)}
EDGE = mostly(st.fixed_dictionaries(EDGE_FIELDS), st.fixed_dictionaries({}, optional=EDGE_FIELDS))
NODE = mostly(st.fixed_dictionaries(NODE_FIELDS), st.fixed_dictionaries({}, optional=NODE_FIELDS))
GRAPH_DOC = st.fixed_dictionaries(
    {
        "format": mostly(st.just(GRAPH_FORMAT)),
        "graph": mostly(st.fixed_dictionaries(
            {"nodes": mostly(st.lists(NODE, max_size=3)), "edges": mostly(st.lists(EDGE, max_size=3))},
            optional={"directed": st.booleans(), "multigraph": st.booleans()},
        )),
    },
)  # fmt: skip
GRAPH_BYTES = mostly(GRAPH_DOC.map(as_json), st.binary(max_size=64))


def check_memory_graph(content: bytes, root: Path) -> None:
    """A scene's memory graph file of any content loads, or is a one-line DramatisError;
    a graph that loads answers every question a prompt or `memory show` asks of it."""
    path = root / "t.json"
    path.write_bytes(content)
    graph = only_user_errors(MemoryGraph.load, path)
    if graph is None:
        event("refused")
        return
    event(f"loaded, {len(list(graph.facts()))} fact(s)")
    for who in ("Hamlet", "Ophelia"):
        for horizon in ("1.1", "3.4+1", "5.2"):
            knows_about(graph, who, "Hamlet", horizon)
            relation(graph, who, "Ophelia", horizon)
            prompt_facts(graph, who, horizon)


@FEW
@given(GRAPH_BYTES)
@example(as_json({"format": GRAPH_FORMAT, "graph": {"nodes": [{"id": "A"}], "edges": [{}]}}))
def test_memory_graph_files(tmp_path_factory, content):
    check_memory_graph(content, tmp_path_factory.mktemp("graph"))


@pytest.mark.slow
@MANY
@given(GRAPH_BYTES)
def test_memory_graph_files_many(tmp_path_factory, content):
    check_memory_graph(content, tmp_path_factory.mktemp("graph"))


# -- a whole stage on the fake model: options, --set pairs and model settings ---------

SET_KEYS = st.sampled_from(
    ["max_tokens", "temperature", "top_p", "retries", "best_of", "prompt_format", "move_on",
     "presence_penalty", "length_share", "nosuch", ""]
)  # fmt: skip
SET_PAIRS = st.tuples(SET_KEYS, OPTION_VALUES).map(lambda kv: ["--set", f"{kv[0]}={kv[1]}"])
FORMATS = st.sampled_from(["page", "auto", "chat", "script", "bogus", "", "PAGE"])
RUNTIME = st.fixed_dictionaries(
    {"DRAMATIS_N_CTX": st.sampled_from(["64", "511", "512", "2048", "131073", "x"]),
     "DRAMATIS_THREADS": st.sampled_from(["0", "1", "3", "1024", "1025", "100000", "-1"])}
)  # fmt: skip


def check_fake_stage(sets: list[list[str]], fmt: str, env: dict, home: Path) -> None:
    """Any options: exit 0 or a one-line exit 2, and every scene saved has said a turn."""
    from dramatis.agents.scene_store import turn_counts

    args = ["stage", "--cast", "Hamlet,Horatio", "--model", "fake", "--turns", "1"]
    args += ["--format", fmt, *flatten(sets), "--out", str(home / "out")]
    result = CliRunner().invoke(app, args, env={"DRAMATIS_HOME": str(home), **env})
    assert result.exit_code in (0, 2), (args, env, result.output, result.exception)
    assert "Traceback" not in result.output
    if result.exit_code == 2 and result.stderr.startswith("error:"):
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    db = home / "scenes.sqlite"
    if db.exists():
        import sqlite3

        conn = sqlite3.connect(db)
        try:
            assert all(n > 0 for n in turn_counts(conn).values()), (args, env)
        finally:
            conn.close()


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(SET_PAIRS, max_size=3), FORMATS, RUNTIME)
def test_stage_options_on_the_fake_model(tmp_path_factory, sets, fmt, env):
    check_fake_stage(sets, fmt, env, tmp_path_factory.mktemp("home"))


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(SET_PAIRS, max_size=3), FORMATS, RUNTIME)
def test_stage_options_on_the_fake_model_many(tmp_path_factory, sets, fmt, env):
    check_fake_stage(sets, fmt, env, tmp_path_factory.mktemp("home"))


# -- card files: any bytes, and PNGs whose header claims any size ----------------------


def png_claiming(width: int, height: int, tail: bytes) -> bytes:
    import struct
    import zlib

    body = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    ihdr = struct.pack(">I", 13) + b"IHDR" + body + struct.pack(">I", zlib.crc32(b"IHDR" + body))
    return b"\x89PNG\r\n\x1a\n" + ihdr + tail


CARD_BYTES = st.one_of(
    st.binary(max_size=200),
    st.builds(png_claiming, st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), st.binary(max_size=60)),
)  # fmt: skip


@FEW
@given(CARD_BYTES)
def test_card_bytes(blob):
    from dramatis.personas.card_files import card_from_bytes

    only_user_errors(card_from_bytes, blob, "card.png")


@pytest.mark.slow
@MANY
@given(CARD_BYTES)
def test_card_bytes_many(blob):
    from dramatis.personas.card_files import card_from_bytes

    only_user_errors(card_from_bytes, blob, "card.png")
