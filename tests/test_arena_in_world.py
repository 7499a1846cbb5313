"""In-world rate, calibrated both ways: real speeches of the 37 plays (false positives)
and hand-labelled out-of-world turns from SmolLM2 transcripts (tests/data)."""

from __future__ import annotations

import json
from pathlib import Path

from dramatis.arena.in_world import out_of_world
from dramatis.personas import list_plays, load_play

LABELLED = Path(__file__).parent / "data" / "out_of_world.jsonl"


def _labelled() -> list[dict]:
    return [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]


def test_flags_at_most_one_percent_of_real_speeches() -> None:
    speeches = [s.text for key in list_plays() for s in load_play(key).speeches()]
    flagged = [t for t in speeches if out_of_world(t)]
    assert len(speeches) > 25_000
    assert len(flagged) / len(speeches) <= 0.01, flagged[:20]


def test_flags_nine_in_ten_labelled_out_of_world_turns() -> None:
    rows = [r for r in _labelled() if r["label"] == "out"]
    missed = [r["text"] for r in rows if not out_of_world(r["text"])]
    assert len(rows) >= 40
    assert 1 - len(missed) / len(rows) >= 0.90, missed


def test_labelled_in_world_turns_mostly_pass() -> None:
    rows = [r for r in _labelled() if r["label"] == "in"]
    flagged = [r["text"] for r in rows if out_of_world(r["text"])]
    assert rows and len(flagged) <= len(rows) // 5, flagged


def test_known_phrases() -> None:
    assert out_of_world("Ophelia says: my lord?") == "Ophelia says"
    assert out_of_world("What does Hamlet say next? I know not.")
    assert out_of_world("Here's the revised speech: Be gone.")
    assert out_of_world("Get thee to a nunnery. Why wouldst thou be a breeder of sinners?") is None
    assert (
        out_of_world("The play's the thing wherein I'll catch the conscience of the king.") is None
    )
