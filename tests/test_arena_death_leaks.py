"""Deaths spoken of before their time: calibrated on every real speech of the 37 plays
(false positives) and on a hand-written set of leaking lines with in-horizon twins."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dramatis.arena.context import Contexts
from dramatis.arena.death_leaks import flagged_real_speeches, speaks_of_death
from dramatis.arena.horizon import KnowledgeLeak
from dramatis.arena.runs import Run
from dramatis.personas import list_plays, load_play

LABELLED = Path(__file__).parent / "data" / "death_leaks.jsonl"
CASTS = {"hamlet": ["Hamlet", "Ophelia"], "macbeth": ["Macbeth", "Lady Macbeth"]}


def test_clause_rule() -> None:
    assert speaks_of_death("Alas, Polonius is dead!", "Polonius")
    assert not speaks_of_death("Polonius waits. I am dead tired", "Polonius")
    assert not speaks_of_death("Poloniuses are slain", "Polonius")  # whole names only


def test_real_speeches_are_rarely_flagged() -> None:
    speeches = sum(len(load_play(k).speeches()) for k in list_plays())
    flagged = [f for k in list_plays() for f in flagged_real_speeches(load_play(k))]
    assert speeches > 25_000
    assert len(flagged) / speeches <= 0.001, flagged[:10]  # measured: see docs/arena.md


def _leaks(row: dict, contexts: Contexts) -> bool:
    cast = CASTS[row["source"].split(":")[0]]
    turn = {"speaker": row["speaker"], "text": row["text"], "source": "model", "present": cast}
    run = Run("t", cast, [turn], source_scene=row["source"], config="test")
    score = KnowledgeLeak().score(run, contexts.get(cast))
    return any(x.startswith("death of") for x in score.extra["leaked"])


@pytest.mark.parametrize("leak", [True, False])
def test_hand_written_lines(leak: bool) -> None:
    contexts = Contexts()
    rows = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]
    chosen = [r for r in rows if r["leak"] is leak]
    wrong = [r["text"] for r in chosen if _leaks(r, contexts) is not leak]
    assert len(chosen) >= 6 and wrong == []
