"""Baselines are runs scored by the same code: script, retrieval, swap, random."""

from __future__ import annotations

from pathlib import Path

import pytest

from dramatis.arena.baselines import closest_line, make_baselines, write_run
from dramatis.arena.context import Contexts
from dramatis.arena.runs import load_run
from dramatis.arena.scoring import score_run
from dramatis.personas import load_play

RUN = Path(__file__).parent / "data" / "arena_run"


@pytest.fixture(scope="module")
def scored() -> dict:
    contexts = Contexts()
    run = load_run(RUN)
    bases = make_baselines(run, contexts.get(run.cast))
    return {
        "run": run,
        "bases": bases,
        "scores": {k: score_run(b, contexts) for k, b in bases.items()},
    }


def test_script_is_the_real_continuation(scored: dict) -> None:
    real = load_play("hamlet").scene("3.1").speeches[4:16]
    script = scored["bases"]["script"]
    assert [(t["speaker"], t["text"]) for t in script.scored] == [(s.speaker, s.text) for s in real]
    values = scored["scores"]["script"]["values"]
    assert values["rouge_l"] == pytest.approx(1.0)
    assert values["in_world"] == 1.0 and values["copying"] == 1.0


def test_swap_moves_every_cast_line(scored: dict) -> None:
    script, swap = scored["bases"]["script"].scored, scored["bases"]["swap"].scored
    cast = scored["run"].cast
    for a, b in zip(script, swap, strict=True):
        assert a["text"] == b["text"]
        assert (a["speaker"] != b["speaker"]) == (a["speaker"] in cast)


def test_retrieval_copies_and_random_policy_never_repeats_a_speaker(scored: dict) -> None:
    assert scored["scores"]["retrieval"]["values"]["copying"] == 1.0
    speakers = [t["speaker"] for t in scored["bases"]["random"].scored]
    assert all(a != b for a, b in zip(speakers, speakers[1:], strict=False))
    assert scored["scores"]["random"]["config"] == "baseline:random"


def test_closest_line_and_round_trip(tmp_path: Path, scored: dict) -> None:
    assert closest_line("the king", ["a rose", "the king is dead"], set()) == "the king is dead"
    write_run(tmp_path / "b", scored["bases"]["swap"])
    again = load_run(tmp_path / "b")
    assert again.config == "baseline:swap" and again.turns == scored["bases"]["swap"].turns
