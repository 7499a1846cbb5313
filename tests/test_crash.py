"""Crash safety: SIGKILL real `dramatis stage`/`resume` processes, then resume and check
that no saved turn is lost or duplicated and the transcript agrees (benchmarks/crash.py)."""

from __future__ import annotations

import importlib.util
import random
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


@pytest.mark.slow
@pytest.mark.parametrize("point", ["generate", "checkpoint", "transcript", "resume", "random"])
def test_each_kill_point_loses_and_duplicates_nothing(tmp_path, point):
    crash = load_harness()
    ref, wall = crash.reference(tmp_path, 5, 11, 0.02)
    sc = crash.Scenario(tmp_path / "killed", 5, 11, 0.02)
    outcome = crash.one_kill(sc, point, random.Random(3), wall)
    assert outcome.survived, outcome
    _, final = crash.checkpoint_turns(sc.home)
    assert crash.said(final) == crash.said(ref)
    assert [t["index"] for t in final] == list(range(6))


def test_printed_turns_counts_cast_headings_only():
    crash = load_harness()
    text = "A hall.\nHAMLET: To be.\nOPHELIA: My lord?\nNot a turn: HAMLET:\n\n3 turns"
    assert crash.printed_turns(text) == 2
