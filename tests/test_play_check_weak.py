"""The eight headings `dramatis play check all` left to weak rules, each now decided by an
explained identity-table entry for its scenes, with the person unchanged."""

from __future__ import annotations

import pytest

from dramatis.personas import load_play
from dramatis.personas.check import heading_rows
from dramatis.personas.identities import load_identities

RULE = "identity table: this heading in this scene"


@pytest.mark.parametrize(
    ("play", "heading", "speaker", "speeches"),
    [
        ("henry_v", "KING.", "King Henry V", 1),
        ("julius_caesar", "CINNA.", "Cinna", 11),
        ("macbeth", "DOCTOR.", "Scotch Doctor", 19),
        ("pericles", "PERACLES.", "Pericles", 1),
        ("richard_iii", "YORK.", "Duke of York", 21),
    ],
)
def test_once_weak_heading_is_explained(play, heading, speaker, speeches):
    rows = [r for r in heading_rows(load_play(play)) if r.heading == heading and r.rule == RULE]
    assert [(r.speaker, r.weak) for r in rows] == [(speaker, False)]
    assert rows[0].speeches == speeches
    why = [i.why for i in load_identities()[play] if i.heading == heading]
    assert why and all(len(w) > 40 for w in why)  # a reason a reader can check


def test_shared_headings_still_split_where_the_text_says():
    poet = [r for r in heading_rows(load_play("julius_caesar")) if r.speaker == "Cinna the Poet"]
    assert [(r.heading, r.speeches) for r in poet] == [("CINNA.", 8)]  # 3.3 only
    english = [r for r in heading_rows(load_play("macbeth")) if r.speaker == "English Doctor"]
    assert [(r.heading, r.speeches, r.weak) for r in english] == [("DOCTOR.", 1, False)]
    archbishop = [
        r for r in heading_rows(load_play("richard_iii")) if r.speaker == "Archbishop of York"
    ]
    assert {r.heading for r in archbishop} == {"ARCHBISHOP."}
