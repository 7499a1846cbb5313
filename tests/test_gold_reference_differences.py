"""Every disagreement with the public reference is listed and read
(tests/data/gold/edition_differences.json, made by tests/data/gold/reference_diff.py): the
list still matches the parse, and with it the reference counts become ours exactly."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from dramatis.personas import load_play
from dramatis.personas.gold import agreement, load_reference, speech_counts

DIFFERENCES = Path(__file__).parent / "data" / "gold" / "edition_differences.json"
PLAYS = json.loads(DIFFERENCES.read_text(encoding="utf-8"))["plays"]
STEPS = (("other label",), ("other heading",), ("reference only", "ours only"))


def staged_agreement(play: str) -> list[float]:
    """Agreement raw, then with each kind of listed difference applied to the reference."""
    ours = speech_counts(load_play(play))
    reference = Counter(load_reference()[play])
    figures = [agreement(ours, dict(reference))]
    for kinds in STEPS:
        for row in PLAYS[play]:
            if row["kind"] in kinds:
                reference[row["reference"]] -= bool(row["reference"])
                reference[row["ours"]] += bool(row["ours"])
        reference = +reference
        figures.append(agreement(ours, dict(reference)))
    return figures


@pytest.mark.parametrize("play", sorted(PLAYS))
def test_listed_differences_turn_the_reference_into_our_counts(play):
    ours = speech_counts(load_play(play))
    reference = Counter(load_reference()[play])
    for row in PLAYS[play]:
        reference[row["reference"]] -= bool(row["reference"])
        reference[row["ours"]] += bool(row["ours"])
    assert dict(+reference) == ours  # nothing unlisted is left
    raw, labels, headings, complete = staged_agreement(play)
    print(f"{play}: raw {raw:.4f}, +labels {labels:.4f}, +headings {headings:.4f}")
    assert raw >= 0.96 and headings >= 0.985 and complete == 1.0


@pytest.mark.parametrize("play", sorted(PLAYS))
def test_our_side_of_each_difference_is_in_the_parse(play):
    said = Counter(
        (s.scene_id, s.heading.strip(), s.speaker, s.lines[0].strip() if s.lines else "")
        for s in load_play(play).speeches()
    )
    for row in PLAYS[play]:
        assert row["kind"] in {k for step in STEPS for k in step}
        if row["kind"] == "reference only":
            assert row["reference"] and not row["heading"]
            continue
        key = (row["scene"], row["heading"], row["ours"], row["our_line"])
        assert said[key] > 0, row
        if row["kind"] == "other heading":  # our text prints someone else's heading
            assert row["reference"] != row["ours"]


@pytest.mark.parametrize("play", sorted(PLAYS))
def test_every_character_with_20_reference_speeches_is_named_as_in_the_reference(play):
    parsed = load_play(play)
    ours = speech_counts(parsed)
    frequent = {n: c for n, c in load_reference()[play].items() if c >= 20}
    assert frequent
    for name, count in frequent.items():
        assert ours.get(name, 0) > 0, f"{play}: {name} is not a speaker here"
        assert name in parsed.characters  # one person (listed, or a role the text names)
        listed = [r for r in PLAYS[play] if name in (r["reference"], r["ours"])]
        moved = sum((r["ours"] == name) - (r["reference"] == name) for r in listed)
        assert ours[name] == count + moved  # every difference in count is a listed row
