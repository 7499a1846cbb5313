"""One error path: each bug a new user hit gives one line and exit 2, never a traceback;
a real bug gives one line plus a saved traceback, and --debug shows it."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import dramatis.cli as cli
from dramatis.cli import app
from dramatis.failures import home_from_args, one_line

runner = CliRunner()


def run(*args: str, **env: str):
    return runner.invoke(app, list(args), env=env or None)


def assert_one_line_error(result, *words: str) -> str:
    """Exit 2, a single `error: ...` line naming `words`, no traceback."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def test_home_that_is_a_file(tmp_path):
    afile = tmp_path / "notafolder"
    afile.write_text("mine")
    result = run("scenes", DRAMATIS_HOME=str(afile))
    assert_one_line_error(result, str(afile), "a file is in the way", "DRAMATIS_HOME")
    assert afile.read_text() == "mine"  # never touched


def test_home_that_is_a_file_via_the_installed_command(tmp_path):
    afile = tmp_path / "notafolder"
    afile.write_text("mine")
    env = {"DRAMATIS_HOME": str(afile), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "dramatis", "scenes"], capture_output=True, text=True, env=env
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: state folder") and "Traceback" not in done.stderr


def test_damaged_scenes_db(home):
    home.mkdir(parents=True)
    db = home / "scenes.sqlite"
    db.write_bytes(b"this is not a database, it is my shopping list\n" * 20)
    before = db.read_bytes()
    line = assert_one_line_error(run("scenes"), str(db), "not SQLite", "move it aside")
    assert "file is not a database" in line
    assert db.read_bytes() == before  # never repaired or overwritten
    assert_one_line_error(run("resume", "some-thread"), str(db))


def test_foreign_sqlite_db_is_refused_untouched(home):
    home.mkdir(parents=True)
    db = home / "scenes.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER, total REAL)")
    assert_one_line_error(run("scenes"), str(db), "invoices", "another program")
    with sqlite3.connect(db) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert tables == {"invoices"}  # no dramatis table was added to someone else's file


def test_damaged_adapter_meta(home):
    folder = home / "adapters" / "hamlet.hamlet" / "v1"
    folder.mkdir(parents=True)
    (folder / "meta.json").write_text("{bad json")
    assert_one_line_error(run("adapters", "list"), "meta.json", "not valid JSON", "retrain")
    (folder / "meta.json").write_text(json.dumps({"character": "Hamlet"}))
    assert_one_line_error(run("adapters", "list"), "meta.json", "play: Field required")
    assert (folder / "meta.json").exists()


def test_damaged_active_pointer(home):
    folder = home / "adapters" / "hamlet.hamlet"
    (folder / "v1").mkdir(parents=True)
    meta = {"character": "Hamlet", "play": "hamlet", "version": 1}
    meta |= {"base_model": "m.gguf", "base_sha256": "0" * 64, "data_sha256": "1" * 64}
    (folder / "v1" / "meta.json").write_text(json.dumps(meta))
    (folder / "active.json").write_text('{"version": "two"}')
    assert_one_line_error(run("adapters", "list"), "active.json", "version", "activate")


def test_out_folder_that_cannot_be_made(home):
    line = assert_one_line_error(
        run("stage", "--cast", "Hamlet,Ophelia", "--out", "/proc/forbidden", "--turns", "1"),
        "--out /proc/forbidden",
    )
    assert "folder you can write" in line
    assert not (home / "scenes.sqlite").exists() or "forbidden" not in run("scenes").output


def test_train_unknown_name_fails_before_any_progress_bar(home):
    result = run("train", "Zorro")
    line = assert_one_line_error(result, "'Zorro'")
    assert result.output.strip() == line  # nothing drawn before the error
    assert "━" not in result.output


def test_unexpected_error_is_one_line_and_a_saved_traceback(home, monkeypatch):
    monkeypatch.setattr(cli, "BUNDLED", {"broken": None})  # a bug: unpacking None
    result = run("models")
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: unexpected TypeError") and "--debug" in line
    (saved,) = (home / "logs").glob("traceback-*.txt")
    assert str(saved) in line
    assert "Traceback (most recent call last)" in saved.read_text()
    assert "in models" in saved.read_text()


def test_a_closed_output_pipe_is_not_a_bug(home, monkeypatch):
    """`dramatis train --help | head -60`: when the reader goes away while a command
    writes, no traceback is saved or shown; the exit status is the shell's 141. (rich
    and click handle the pipe themselves when it breaks in their own writes.)"""

    class Gone(dict):  # the models listing writes while it iterates this
        def items(self):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(cli, "BUNDLED", Gone())
    result = run("models")
    assert result.exit_code == 141
    assert "Traceback" not in result.output and "error" not in result.output
    assert not (home / "logs").exists()


def test_debug_shows_the_traceback(home, monkeypatch):
    monkeypatch.setattr(cli, "BUNDLED", {"broken": None})
    result = run("--debug", "models")
    assert isinstance(result.exception, TypeError)  # re-raised for typer to print in full
    assert not (home / "logs").exists()


@pytest.mark.parametrize(
    ("args", "home"),
    [
        (["stage", "--home", "/a"], "/a"),
        (["resume", "t", "--home=/b"], "/b"),
        (["scenes"], None),
        (["stage", "--home"], None),
    ],
)
def test_home_from_args(args, home):
    found = home_from_args(args)
    assert (str(found) if found else None) == home


def test_one_line():
    assert one_line(ValueError("bad\n  thing")) == "ValueError: bad thing"
    assert one_line(KeyError()) == "KeyError"
    assert len(one_line(ValueError("x" * 1000))) < 220


@pytest.mark.model
def test_resume_writes_back_to_the_scenes_own_out_folder(home, tmp_path, monkeypatch):
    """Staged with --out DIR (a relative path), resumed from another folder: one scene,
    one folder, holding every turn."""
    work, elsewhere = tmp_path / "work", tmp_path / "elsewhere"
    work.mkdir()
    elsewhere.mkdir()
    monkeypatch.chdir(work)
    common = ["--threads", "1"]
    staged = run(
        "stage", "--cast", "Hamlet,Ophelia", "--turns", "1", "--max-tokens", "8",
        "--out", "mine", *common,
    )  # fmt: skip
    assert staged.exit_code == 0, staged.output
    thread_id = json.loads((work / "mine" / "scene.json").read_text())["thread_id"]
    monkeypatch.chdir(elsewhere)
    resumed = run("resume", thread_id, "--turns", "1", *common)
    assert resumed.exit_code == 0, resumed.output
    lines = (work / "mine" / "transcript.jsonl").read_text().splitlines()
    assert [json.loads(x)["index"] for x in lines] == [0, 1]
    assert not (elsewhere / "runs").exists()
    assert json.loads((work / "mine" / "scene.json").read_text())["out"] == str(work / "mine")


def test_model_file_that_is_not_gguf(home, tmp_path):
    fake = tmp_path / "model.gguf"
    fake.write_text("<html>404</html>")
    result = run("stage", "--cast", "Hamlet,Ophelia", "--model", str(fake), "--turns", "1")
    assert_one_line_error(result, str(fake), "not a GGUF file")
    assert fake.read_text() == "<html>404</html>"


@pytest.mark.parametrize(
    ("transcript", "scene", "words"),
    [
        (
            b'{"speaker": "Hamlet", "text": "caf\xe9 \xff"}\n',
            None,
            ["transcript.jsonl", "not UTF-8"],
        ),
        (b'{"speaker": "Hamlet", "text": "hi"}\n', b"\xff\xfe[", ["scene.json", "not UTF-8"]),
        (b'{"speaker": "Hamlet", "text": "hi"}\n', b"[1, 2]", ["scene.json", "JSON object"]),
    ],
)
def test_arena_score_on_a_transcript_that_is_not_utf8(tmp_path, transcript, scene, words):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "transcript.jsonl").write_bytes(transcript)
    if scene is not None:
        (run_dir / "scene.json").write_bytes(scene)
    assert_one_line_error(run("arena", "score", str(run_dir), "--no-baselines"), *words)
