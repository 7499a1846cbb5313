"""Mapping fixes found by aligning the parse with the public reference speech by speech
(tests/data/gold/reference_diff.py): each heading here was mapped wrongly or not at all."""

from __future__ import annotations

import json

import pytest

from dramatis.core.errors import DramatisError
from dramatis.personas import identities, load_play
from dramatis.personas.parse import parse_play


def speeches(play: str, heading: str, scene: str | None = None):
    found = [
        s
        for s in load_play(play).speeches()
        if s.heading.strip() == heading and (scene is None or s.scene_id == scene)
    ]
    assert found, f"no {heading} in {play} {scene or ''}"
    return found


def test_coriolanus_roman_of_4_3_is_not_the_herald():
    said = speeches("coriolanus", "ROMAN.", "4.3")
    assert {s.speaker for s in said} == {"Roman"} and len(said) == 10
    assert said[0].text.startswith("I know you well, sir")


def test_coriolanus_boy_is_young_marcius_and_the_plebeians_are_the_citizens():
    (boy,) = speeches("coriolanus", "BOY.", "5.3")
    assert boy.speaker == "Young Marcius" and "tread on me" in boy.text
    (crowd,) = speeches("coriolanus", "PLEBEIANS.", "3.1")
    assert crowd.speaker == "Citizens"


def test_both_of_a_kind_names_the_two_on_stage():
    tribunes = speeches("coriolanus", "BOTH TRIBUNES.")
    assert {(s.speaker, s.speakers) for s in tribunes} == {
        ("Both", ("Sicinius Velutus", "Junius Brutus"))
    }
    for play in ("macbeth", "richard_iii"):
        for s in speeches(play, "BOTH MURDERERS."):
            assert (s.speaker, s.speakers) == ("Both", ("First Murderer", "Second Murderer"))
    assert "Both Tribunes" not in load_play("coriolanus").characters


def test_antony_misprinted_headings():
    (thymus,) = speeches("antony_and_cleopatra", "THYMUS.", "3.13")
    assert thymus.speaker == "Thyreus"
    euph = speeches("antony_and_cleopatra", "EUPHRONIUS.", "3.13")
    # on stage for his two answers; the aside after "[Exeunt ANTONY and EUPHRONIUS.]" is
    # Enobarbus's
    assert [s.speaker for s in euph] == ["Euphronius", "Euphronius", "Domitius Enobarbus"]
    assert euph[-1].text.startswith("Yes, like enough high-battled Caesar")


def test_henry_iv_ostler_and_et_cetera():
    (ost,) = speeches("henry_iv_part_1", "OST.", "2.1")
    assert ost.speaker == "Ostler" and ost.resolved
    (thieves,) = speeches("henry_iv_part_1", "FALS, GADS., &C.", "2.2")
    assert thieves.speakers == ("Sir John Falstaff", "Gadshill")
    assert thieves.speaker == "Sir John Falstaff and Gadshill and others"


def test_richard_iii_ghosts_are_the_people_they_were():
    scene = load_play("richard_iii").scene("5.3")
    ghosts = [s.speaker for s in scene.speeches if s.heading.startswith("GHOST")]
    assert ghosts == [
        "Ghost of Prince Edward",
        "Ghost of Henry the Sixth",
        "Ghost of Clarence",
        "Ghost of Rivers",
        "Ghost of Grey",
        "Ghost of Vaughan",
        "Ghost of Hastings",
        "Ghosts of the two young Princes",
        "Ghost of Queen Anne",
        "Ghost of Buckingham",
    ]
    (three,) = [s for s in scene.speeches if s.heading == "ALL THREE."]
    assert three.speakers == ("Ghost of Rivers", "Ghost of Grey", "Ghost of Vaughan")


SMALL = """THE GHOSTLY PLAY

PERSONS REPRESENTED.

KING, a tyrant.
First Murderer.
Second Murderer.

ACT I.

SCENE I. A field.

[Enter KING, and two Murderers.]

KING.
Who comes?

FIRST MURDERER.
We two.

SECOND MURDERER.
Even we.

BOTH MURDERERS.
Ay, my lord.

[The Ghost of OLD TOM rises.]

GHOST.
Remember me.

[The Ghost of YOUNG WILL rises.]

GHOST.
And me.
"""


def test_the_ghost_rule_and_both_of_a_kind_on_a_small_text():
    play = parse_play(SMALL, "small", "The Ghostly Play")
    said = [(s.heading, s.speaker, s.speakers) for s in play.speeches()]
    assert said[3] == ("BOTH MURDERERS.", "Both", ("First Murderer", "Second Murderer"))
    assert said[4][1:] == ("Ghost of Old Tom", ("Ghost of Old Tom",))
    assert said[5][1:] == ("Ghost of Young Will", ("Ghost of Young Will",))


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"heading": "X.", "scenes": ["1.1"], "name": "Y", "members": "Z", "why": "w"}, "members"),
        (
            {"heading": "X.", "scenes": ["1.1"], "name": "Y", "off_stage": "yes", "why": "w"},
            "off_stage",
        ),
    ],
)
def test_bad_group_or_off_stage_entry_is_one_line(tmp_path, entry, field):
    path = tmp_path / "identities.json"
    path.write_text(json.dumps({"hamlet": [entry]}), encoding="utf-8")
    with pytest.raises(DramatisError) as err:
        identities.load_identities.__wrapped__(path)
    message = str(err.value)
    assert "\n" not in message and "hamlet[0]" in message and f"'{field}'" in message


@pytest.mark.parametrize(
    ("play", "scene", "speaker", "first", "before"),
    [
        ("coriolanus", "4.6", "Citizens", "The gods preserve you both!", "Menenius Agrippa"),
        ("richard_ii", "1.4", "All", "Amen.", "King Richard the Second"),
        ("richard_ii", "2.1", "Edmund Langley", "How long shall I be patient?", None),
        ("twelfth_night", "3.4", "Fabian", "O good Sir Toby, hold;", "Sir Toby Belch"),
    ],
)
def test_a_heading_on_the_line_of_its_speech_opens_a_speech(play, scene, speaker, first, before):
    said = load_play(play).scene(scene).speeches
    (speech,) = [s for s in said if s.text.startswith(first)]
    assert speech.speaker == speaker and speech.resolved
    assert not [s for s in said if first in s.text and s is not speech]  # no longer inside
    if before:
        assert said[said.index(speech) - 1].speaker == before


def test_two_headings_on_one_line_stay_one_group():
    (both,) = speeches("julius_caesar", "TITINIUS. MESSALA.", "4.3")
    assert both.speakers == ("Titinius", "Messala")
    text = "\n\nACT I.\n\nSCENE I. A room.\n\n[Enter A and B.]\n\nALPHA. Good day.\n\nBETA.\nAnd to you.\n"
    play = parse_play("THE PLAY\n\nPERSONS REPRESENTED.\n\nALPHA.\nBETA.\n" + text, "x", "The Play")
    assert [(s.speaker, s.text) for s in play.speeches()] == [
        ("Alpha", "Good day."),
        ("Beta", "And to you."),
    ]


def test_a_heading_of_names_in_capitals_with_commas_is_a_heading():
    said = speeches("antony_and_cleopatra", "CAESAR, ANTONY, and LEPIDUS.", "2.6")
    assert [s.text for s in said] == ["That's our offer.", "Show's the way, sir."]
    assert all(
        s.speakers == ("Octavius Caesar", "Mark Antony", "Mark Aemilius Lepidus") for s in said
    )
    pompey = [
        s
        for s in load_play("antony_and_cleopatra").scene("2.6").speeches
        if s.speaker == "Sextus Pompeius"
    ]
    assert not [s for s in pompey if "That's our offer" in s.text]  # no longer his
