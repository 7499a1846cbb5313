"""Crash safety: SIGKILL real `dramatis stage`/`resume` processes, then resume and check
that no saved turn is lost or duplicated and the transcript agrees (benchmarks/crash.py)."""

from __future__ import annotations

import importlib.util
import random
import signal
import sys
from pathlib import Path

import pytest

HARNESS = Path(__file__).parent.parent / "benchmarks" / "crash.py"


def load_harness():
    spec = importlib.util.spec_from_file_location("crash_harness", HARNESS)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["crash_harness"] = module
    spec.loader.exec_module(module)
    return module


def test_a_scene_killed_mid_speech_resumes_with_every_saved_turn(tmp_path):
    """The default suite's short run (2 children, a few seconds each): `dramatis stage`
    on the slow fake model is SIGKILLed inside its 9th draw (about 3 per turn: the guards
    send word salad back), with turns saved and shown; `dramatis resume` finishes it. No
    saved turn is lost, changed or repeated, and the transcript on disk agrees with the
    checkpoint after the kill and at the end."""
    crash = load_harness()
    sc = crash.Scenario(tmp_path, turns=4, seed=11, fake=0.01)
    o = crash.Outcome("generate", "fake", 0, 0, 0)
    code, out = crash.run_child(sc.stage("generate:2:saved"), sc.env())  # 2nd draw after turn 0
    assert code == -signal.SIGKILL  # killed, not finished
    saved = crash.check_after_kill(sc, o, crash.printed_turns(out))
    assert 1 <= len(saved) < 4 and o.printed_at_kill == len(saved)  # killed mid-scene
    final = crash.finish(sc, o, saved)
    assert o.survived, o
    assert final[: len(saved)] == saved and [t["index"] for t in final] == list(range(5))
    assert len({t["text"] for t in final}) == 5  # five speeches, none said twice


def test_a_turn_is_shown_only_once_it_is_saved(tmp_path):
    """LangGraph streams a step's update as soon as it hands the step's writes to a
    background thread; the scene waits for them to commit before it shows the turn. With
    each step's writes half a second late, the stage is killed in the 7th checkpoint
    transaction after the first turn's save (the second turn's writes before the scene
    waited for them, the step after them now): whatever it had shown is saved."""
    crash = load_harness()
    sc = crash.Scenario(tmp_path, turns=3, seed=11, fake=0.01)
    o = crash.Outcome("checkpoint", "fake", 0, 0, 0)
    cmd = sc.stage("checkpoint:7:saved")
    cmd[3:3] = ["--slow-writes", "0.5"]  # child options: a step's writes come late
    code, out = crash.run_child(cmd, sc.env())
    assert code == -signal.SIGKILL
    saved = crash.check_after_kill(sc, o, crash.printed_turns(out))
    assert 1 <= o.printed_at_kill <= len(saved) and o.lost == 0


@pytest.mark.slow
@pytest.mark.parametrize(
    "point", ["generate", "checkpoint", "transcript", "resume", "random", "concurrent"]
)
def test_each_kill_point_loses_and_duplicates_nothing(tmp_path, point):
    crash = load_harness()
    ref, wall = crash.reference(tmp_path, 5, 11, 0.02)
    sc = crash.Scenario(tmp_path / "killed", 5, 11, 0.02)
    outcome = crash.one_kill(sc, point, random.Random(3), wall)
    assert outcome.survived, outcome
    _, final = crash.checkpoint_turns(sc.home)
    # a second writer that ran once the first was killed adds its own turns after them
    assert crash.said(final)[: len(ref)] == crash.said(ref)
    assert [t["index"] for t in final] == list(range(len(final))) and len(final) >= 6


def test_printed_turns_counts_cast_headings_only():
    crash = load_harness()
    text = "A hall.\nHAMLET: To be.\nOPHELIA: My lord?\nNot a turn: HAMLET:\n\n3 turns"
    assert crash.printed_turns(text) == 2


def test_text_level_comparison_counts_a_repeated_speech_as_duplicated():
    """A turn redone after a kill under a new index is caught by content, and any change
    of text is a divergence from the reference run."""
    crash = load_harness()

    def turn(i: int, text: str) -> dict:
        return {"index": i, "speaker": "Hamlet", "text": text, "source": "model"}

    ref = [turn(0, "Words, words, words."), turn(1, "Then is doomsday near.")]
    same = crash.Outcome("random", "real", 1, 1, 2)
    crash.compare(same, list(ref), ref)
    assert same.survived
    redone = crash.Outcome("random", "real", 1, 1, 2)
    crash.compare(redone, [ref[0], turn(1, "Words, words, words.")], ref)
    assert redone.duplicated == 1 and redone.diverged == 1


def test_targeted_kills_land_after_the_first_saved_turn():
    """They count from the first turn's save (":saved"), within the turns after it: at
    least 6 checkpoint transactions, 3 transcript files and 1 draw a turn."""
    crash = load_harness()
    rng = random.Random(3)
    for point, most in (("generate", 9), ("checkpoint", 54), ("transcript", 27)):
        drawn = set()
        for _ in range(200):
            name, n, when = crash.kill_point(point, 10, rng, True).split(":")
            assert name == point and when == "saved" and 1 <= int(n) <= most
            drawn.add(int(n))
        assert min(drawn) == 1 and max(drawn) == most
    assert crash.kill_point("generate", 3, rng, False).startswith("checkpoint:")  # real model
    assert crash.kill_point("checkpoint", 3, rng, True, after=0).count(":") == 1  # from start
