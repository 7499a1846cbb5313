"""Reliability at the limits: no scene is saved that cannot resume, model settings out of
range are one line, one process writes a scene at a time, and a damaged scenes database
is refused before anything is written to it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import dramatis.cli as cli
from dramatis.agents.character import AgentSettings
from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.scene_store import SceneSpec, SceneStore, turn_counts
from dramatis.agents.settings_check import MAX_THREADS, MIN_N_CTX, runtime_threads
from dramatis.cli import app
from dramatis.core.errors import DramatisError
from dramatis.core.settings import Settings
from dramatis.staging import build_scene, context_overflow
from tests.test_errors import assert_one_line_error as one_line_error

runner = CliRunner()
ROOT = Path(__file__).parent.parent


def saved_ids(home: Path) -> list[str]:
    db = home / "scenes.sqlite"
    if not db.exists():
        return []
    store = SceneStore(db)
    try:
        return store.ids()
    finally:
        store.close()


def fake_stage(home: Path, *extra: str, turns: int = 2):
    args = ["stage", "--cast", "Hamlet,Horatio", "--model", "fake", "--turns", str(turns)]
    args += ["--home", str(home), "--out", str(home / "out"), "--policy", "round-robin"]
    return runner.invoke(app, [*args, *extra])


def spec_for(home: Path, thread_id: str = "t-1", **fields) -> SceneSpec:
    base = {
        "thread_id": thread_id,
        "cast": ["Hamlet", "Horatio"],
        "plays": {"Hamlet": "hamlet", "Horatio": "hamlet"},
        "setting": "A platform before the castle.",
        "model": "fake",
        "policy": "round-robin",
        "out": str(home / "out"),
    }
    return SceneSpec(**{**base, **fields})


# -- 1. no scene is saved that cannot resume -------------------------------------------


def test_bogus_format_is_refused_before_anything_is_saved(tmp_path):
    one_line_error(fake_stage(tmp_path, "--format", "bogus"), "--format", "page, auto, chat")
    assert saved_ids(tmp_path) == []


def test_chat_format_on_a_model_without_a_template_saves_nothing(tmp_path):
    settings = Settings.load(home=tmp_path).ensure()
    spec = spec_for(tmp_path, agent=AgentSettings(prompt_format="chat"))
    store = SceneStore(settings.scenes_db)
    with pytest.raises(DramatisError, match="--format chat: .*no chat template.*--format page"):
        build_scene(spec, store, settings, model=FakeModel(chat=False))
    assert store.ids() == []


class OverflowModel(FakeModel):
    """A model whose every prompt is too long, as llama.cpp says it."""

    def stream(self, prompt, sampling):
        raise ValueError("Requested tokens (90000) exceed context window of 2048")
        yield ""


def test_a_prompt_over_the_context_is_one_line_and_saves_no_scene(tmp_path):
    settings = Settings.load(home=tmp_path).ensure()
    spec = spec_for(tmp_path)
    store = SceneStore(settings.scenes_db)
    staged = build_scene(spec, store, settings, model=OverflowModel())
    with pytest.raises(DramatisError) as err:
        cli._play_scene(staged, 2, tmp_path / "out", None, store)
    assert "does not fit" in str(err.value) and "nothing was saved" in str(err.value)
    assert "DRAMATIS_N_CTX" in str(err.value) and "\n" not in str(err.value)
    assert store.ids() == []


def test_context_overflow_is_told_apart_from_other_errors():
    assert context_overflow(ValueError("Requested tokens (9) exceed context window of 8"))
    assert context_overflow(RuntimeError("400: context_length_exceeded"))
    assert not context_overflow(ValueError("bad sampling value"))
    assert not context_overflow(DramatisError("exceed context window"))  # already one line


def test_a_new_scene_is_saved_with_its_first_turn(tmp_path):
    result = fake_stage(tmp_path, turns=2)
    assert result.exit_code == 0, result.output
    (thread_id,) = saved_ids(tmp_path)
    store = SceneStore(tmp_path / "scenes.sqlite")
    assert store.turn_counts() == {thread_id: 2}


def test_a_scene_saved_with_no_turns_resumes_from_its_opening(tmp_path):
    """A 0-turn scene (saved by an older version, or a chat closed at once) is listed as
    such and resumes like a new one: the play's opening speeches, then new turns."""
    settings = Settings.load(home=tmp_path).ensure()
    store = SceneStore(settings.scenes_db)
    store.save(spec_for(tmp_path, "empty-1", source_scene="hamlet:1.1"))
    store.close()
    listed = runner.invoke(app, ["scenes", "--home", str(tmp_path)])
    assert "empty-1" in listed.output and "0 turns (never spoke" in listed.output
    result = runner.invoke(app, ["resume", "empty-1", "--turns", "2", "--home", str(tmp_path)])
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(settings.scenes_db)
    assert turn_counts(conn) == {"empty-1": 4 + 2}  # OPENING_SPEECHES from the play, then 2


def test_real_model_chat_format_is_refused_and_saves_nothing(tmp_path):
    """The real path: Gemma 3 270M (a base model) has no chat template."""
    env = {**os.environ, "DRAMATIS_HOME": str(tmp_path), "DRAMATIS_THREADS": "1"}
    cmd = [sys.executable, "-m", "dramatis", "stage", "--cast", "Hamlet,Ophelia"]
    cmd += ["--format", "chat", "--turns", "1", "--out", str(tmp_path / "out")]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "no chat template" in done.stderr
    assert saved_ids(tmp_path) == []


@pytest.mark.slow  # a 40 KB prompt on the real model: minutes on a loaded machine
def test_real_model_setting_longer_than_the_context_saves_no_unresumable_scene(tmp_path):
    """The real path: Gemma 3 270M with a 512-token context and a 40 KB setting. Either
    the prompt is trimmed to fit and the scene speaks, or the command ends with one line
    and nothing saved; never a traceback or a scene with no turns."""
    env = {**os.environ, "DRAMATIS_HOME": str(tmp_path), "DRAMATIS_THREADS": "1"}
    env["DRAMATIS_N_CTX"] = "512"
    cmd = [sys.executable, "-m", "dramatis", "stage", "--cast", "Hamlet,Ophelia"]
    cmd += ["--setting", "A cold hall. " * 3300, "--turns", "1", "--set", "best_of=1"]
    cmd += ["--out", str(tmp_path / "out")]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert "Traceback" not in done.stdout + done.stderr
    assert done.returncode in (0, 2), done.stderr
    if done.returncode == 2:
        assert done.stderr.count("\n") == 1 and "does not fit" in done.stderr
        assert saved_ids(tmp_path) == []
    else:
        conn = sqlite3.connect(tmp_path / "scenes.sqlite")
        assert list(turn_counts(conn).values()) == [1]


# -- 2. model settings at the edge -------------------------------------------------------


def test_threads_are_lowered_to_the_cores_or_refused():
    assert runtime_threads(2048, 64, cores=2) == 2
    assert runtime_threads(2048, 1, cores=2) == 1
    assert runtime_threads(2048, None) is None and runtime_threads(2048, 0) is None
    with pytest.raises(DramatisError, match=f"DRAMATIS_THREADS=100000 .* from 1 to {MAX_THREADS}"):
        runtime_threads(2048, 100000)


def test_a_context_below_the_minimum_is_refused():
    with pytest.raises(DramatisError, match=f"DRAMATIS_N_CTX=64 .* from {MIN_N_CTX}"):
        runtime_threads(64, 1)
    assert runtime_threads(MIN_N_CTX, 1) == 1


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"DRAMATIS_THREADS": "100000"}, ["DRAMATIS_THREADS=100000", "from 1 to"]),
        ({"DRAMATIS_N_CTX": "64"}, ["DRAMATIS_N_CTX=64", "from 512"]),
    ],
)
def test_settings_out_of_range_stop_a_stage_with_one_line(tmp_path, env, words):
    result = runner.invoke(
        app,
        ["stage", "--cast", "Hamlet,Horatio", "--model", "fake", "--home", str(tmp_path)],
        env=env,
    )
    one_line_error(result, *words)
    assert saved_ids(tmp_path) == []


# -- 3. one writer per scene -------------------------------------------------------------

CHILD = """
import os, sys, time
import dramatis.agents.fake_backend as fb
DELAY = float(sys.argv[1])
HOLD = os.environ.get("HOLD_FILE", "")  # while this file exists, no piece comes out
class Slow(fb.FakeModel):
    def stream(self, prompt, sampling):
        for piece in super().stream(prompt, sampling):
            time.sleep(DELAY)
            while HOLD and os.path.exists(HOLD):
                time.sleep(0.02)
            yield piece
fb.FakeModel = Slow
sys.argv = ["dramatis", *sys.argv[2:]]
from dramatis.cli import main
main()
"""


def child(home: Path, delay: float, *args: str, hold: Path | None = None) -> subprocess.Popen:
    env = {**os.environ, "DRAMATIS_HOME": str(home), "COLUMNS": "400"}
    if hold is not None:
        env["HOLD_FILE"] = str(hold)
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(delay), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_resuming_one_scene_never_fork_its_history(tmp_path):
    """Two real processes: while one resumes a scene, a second `resume` of it is refused
    with one line; the history stays one line of turns, each index once."""
    assert fake_stage(tmp_path, turns=1).exit_code == 0
    (thread_id,) = saved_ids(tmp_path)
    hold = tmp_path / "hold"  # the first process stays mid-turn until the second is done
    hold.touch()
    first = child(tmp_path, 0.02, "resume", thread_id, "--turns", "3", hold=hold)
    lock_dir = tmp_path / "locks"
    deadline = time.time() + 60
    while time.time() < deadline and not any(  # the first holds the lock
        p.read_text() == str(first.pid) for p in lock_dir.glob("*.lock")
    ):
        time.sleep(0.05)
    second = child(tmp_path, 0.0, "resume", thread_id, "--turns", "3")
    _, err2 = second.communicate(timeout=120)
    hold.unlink()
    _, err1 = first.communicate(timeout=300)
    assert first.returncode == 0, err1
    assert second.returncode == 2, err2
    assert err2.count("\n") == 1 and "being written by another dramatis process" in err2
    conn = sqlite3.connect(tmp_path / "scenes.sqlite")
    assert turn_counts(conn) == {thread_id: 1 + 3}  # not 1 + 3 + 3
    again = child(tmp_path, 0.0, "resume", thread_id, "--turns", "1")  # the lock went with it
    assert again.wait(timeout=120) == 0


# -- 4. integrity on open ----------------------------------------------------------------


def damage_a_page(db: Path) -> None:
    """Overwrite the whole root page of the checkpoints table with noise."""
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'checkpoints'").fetchone()[
        0
    ]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with open(db, "r+b") as fh:
        fh.seek((page - 1) * size)
        fh.write(os.urandom(size))


def test_a_damaged_database_is_refused_on_resume_and_left_as_it_was(tmp_path):
    assert fake_stage(tmp_path, turns=3).exit_code == 0
    (thread_id,) = saved_ids(tmp_path)
    db = tmp_path / "scenes.sqlite"
    damage_a_page(db)
    before = db.read_bytes()
    result = runner.invoke(app, ["resume", thread_id, "--home", str(tmp_path)])
    one_line_error(result, "is damaged", ".recover", f"mv {db} {db}.bak")
    assert db.read_bytes() == before  # nothing was written into it
