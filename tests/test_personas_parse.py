"""parse_play on small inline texts: headings, abbreviations, entrances and exits."""

from __future__ import annotations

import pytest

from dramatis.core.errors import DramatisError
from dramatis.personas import parse_play
from dramatis.personas.headings import (
    act_heading,
    display_name,
    looks_like_heading,
    scene_heading,
    section_heading,
    singular,
    split_ordinal,
)

SMALL = """\
THE TRAGEDY OF TESTING

by Nobody



PERSONS REPRESENTED.

Claudius, King of Denmark.
Hamlet, Son to the former King.
Horatio, Friend to Hamlet.
LADY MACBETH.
Two Clowns, Grave-diggers.

Lords, Ladies, Officers, and Attendants.

SCENE. Elsinore.



ACT I.

Scene I. Elsinore. A platform.

[Enter Hamlet and Horatio.]

Ham.
Who's there?

Hor.
A friend.

[Enter King.]

King.
How now, my son?

Ham.
A little more than kin,
[Aside.]
and less than kind.

[Exit Horatio.]

Still I speak.

Both.
We speak together.

[Exeunt.]



Act II.

SCENE 2. Another room.

[Enter Lady Macbeth, and two Clowns.]

Lady M.
Out, damned spot!

1 Clown.
Is she to be buried in Christian burial?

2 Clown.
I tell thee she is.

ALL.
Away!

Nobody Special.
I am not in the list.

Nobody Special.
Still not.

[Exit.]
"""


@pytest.fixture(scope="module")
def play():
    return parse_play(SMALL, key="testing")


def test_structure(play):
    assert [a.number for a in play.acts] == [1, 2]
    assert [s.id for s in play.scenes()] == ["1.1", "2.2"]
    assert play.scene("1.1").setting == "Elsinore. A platform."
    assert play.title == "The Tragedy of Testing"


def test_abbreviations_resolve(play):
    speakers = [(s.heading, s.speaker) for s in play.speeches()]
    assert ("Ham.", "Hamlet") in speakers
    assert ("Hor.", "Horatio") in speakers
    assert ("King.", "Claudius") in speakers
    assert ("Lady M.", "Lady Macbeth") in speakers


def test_ordinal_roles_from_group_lines(play):
    names = [s.speaker for s in play.speeches()]
    assert "First Clown" in names and "Second Clown" in names
    assert play.characters["First Clown"].listed is False


def test_direction_split_speech_keeps_speaker(play):
    ham = [s for s in play.speeches() if s.heading == "Ham."][1]
    assert ham.text == "A little more than kin,\nand less than kind.\nStill I speak."
    assert "[" not in ham.text


def test_on_stage_tracks_entrances_and_exits(play):
    first, second, king = play.speeches()[:3]
    assert first.on_stage == ("Hamlet", "Horatio")
    assert king.on_stage == ("Hamlet", "Horatio", "Claudius")
    both = play.speeches()[4]
    assert both.speaker == "Both"
    assert set(both.speakers) <= set(both.on_stage) and "Horatio" not in both.on_stage
    assert set(both.speakers) == {"Claudius", "Hamlet"}


def test_exeunt_clears_stage_and_new_scene_starts_empty(play):
    lady = next(s for s in play.speeches() if s.speaker == "Lady Macbeth")
    assert lady.on_stage == ("Lady Macbeth",)  # "two Clowns" are not named characters
    everyone = next(s for s in play.speeches() if s.speaker == "All")
    assert set(everyone.speakers) == {"Lady Macbeth", "First Clown", "Second Clown"}


def test_unresolved_heading_is_flagged(play):
    odd = [s for s in play.speeches() if s.speaker == "Nobody Special"]
    assert len(odd) == 2 and not any(s.resolved for s in odd)
    assert play.resolved_fraction() == pytest.approx(9 / 11)


def test_indices_are_play_positions(play):
    assert [s.index for s in play.speeches()] == list(range(len(play.speeches())))


def test_unknown_scene_lists_valid_ids(play):
    with pytest.raises(DramatisError, match=r"no scene '9\.9'.*1\.1, 2\.2"):
        play.scene("9.9")


def test_poem_parses_to_no_speeches():
    poem = "SONNETS\n\nby Someone\n\n\nI\n\nFrom fairest creatures we desire increase,\n"
    assert parse_play(poem).speeches() == []


def test_heading_without_period_and_prologue():
    text = (
        "PLAY\n\nPersons Represented.\n\nTHESEUS, Duke of Athens.\nCHORUS.\n\n"
        "PROLOGUE.\n\n[Enter CHORUS.]\n\nCHORUS.\nO for a Muse of fire.\n\n"
        "ACT I.\n\nSCENE I. Athens.\n\n[Enter THESEUS.]\n\nTHESEUS\nNow, fair Hippolyta.\n"
    )
    play = parse_play(text)
    assert [s.id for s in play.scenes()] == ["0.0", "1.1"]
    assert play.scenes()[0].kind == "prologue"
    assert [(s.speaker, s.act) for s in play.speeches()] == [("Chorus", 0), ("Theseus", 1)]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("ACT I.", (1, "")),
        ("ACT FIRST", (1, "")),
        ("Act 2.", (2, "")),
        ("ACT IV. SCENE I.", (4, "SCENE I.")),
        ("Acts of black night", None),
    ],
)
def test_act_heading(line, expected):
    assert act_heading(line) == expected


def test_other_headings():
    assert scene_heading("SCENE 3. A room.") == (3, "A room.")
    assert scene_heading("SCENE: Ephesus") is None
    assert section_heading("THE PROLOGUE") == "prologue"
    assert split_ordinal("I Play.") == ("First", "Play.")
    assert split_ordinal("FIRST WITCH") == ("First", "WITCH")
    assert looks_like_heading("Lady M.") and looks_like_heading("FIRST WITCH.")
    assert not looks_like_heading("Who's there?") and not looks_like_heading("   CHORUS.")
    assert display_name("DUKE OF VENICE") == "Duke of Venice"
    assert singular("Witches") == "witch" and singular("Laertes") == "laertes"


def test_shared_role_picks_by_setting_then_place():
    from dramatis.personas.shared_roles import SharedRoles, echoes, place_of

    assert place_of("The same. A street.", "rome") == "rome"
    assert place_of("Dunsinane. A Room in the Castle.", "") == "dunsinane"
    assert echoes("english", "England. Before the King's Palace.")
    assert not echoes("scotch", "Dunsinane. A Room in the Castle.")
    roles = SharedRoles()
    names = ["English Doctor", "Scotch Doctor"]
    quals = {"English Doctor": ["english"], "Scotch Doctor": ["scotch"]}
    roles.enter_scene(1, "England. Before the King's Palace.")
    assert roles.pick(names, quals, set()) == "English Doctor"
    roles.enter_scene(2, "Dunsinane. A Room in the Castle.")
    assert roles.pick(names, quals, set()) == "Scotch Doctor"  # the English one is elsewhere
    roles.enter_scene(3, "The same.")
    assert roles.pick(names, quals, set()) == "Scotch Doctor"
    assert roles.pick(names, quals, {"English Doctor"}) == "English Doctor"  # entered
    roles.claimed.add("Scotch Doctor")
    assert roles.pick(names, quals, set()) == "English Doctor"


def test_two_listed_doctors_resolve_by_scene():
    text = (
        "PERSONS REPRESENTED.\n\nAn English Doctor. A Scotch Doctor.\nMALCOLM.\n\n"
        "ACT I.\n\nSCENE I. England. A palace.\n\n[Enter Malcolm and a Doctor.]\n\n"
        "MALCOLM.\nComes the king forth?\n\nDOCTOR.\nAy, sir.\n\n[Exeunt.]\n\n"
        "SCENE II. Dunsinane. A room.\n\n[Enter a Doctor.]\n\nDOCTOR.\nI have watched.\n"
    )
    play = parse_play(text, key="t")
    assert [s.speaker for s in play.speeches()] == ["Malcolm", "English Doctor", "Scotch Doctor"]


def test_persons_list_groups_epithets_and_a_title_named_character():
    from dramatis.personas.persons import parse_persons

    lines = [
        "JULIUS CAESAR",
        "MARCUS BRUTUS, Conspirator against Caesar.",
        "CINNA, Conspirator.",
        "CINNA, a poet. Another Poet.",
        "Roman and Volscian Senators, Patricians, Aediles, Lictors,",
        "",
        "Goths and Romans.",
        "",
        "LORD HASTINGS.",
    ]
    persons = parse_persons(lines, "JULIUS CAESAR")
    names = [c.name for c in persons.characters]
    assert names == ["Julius Caesar", "Marcus Brutus", "Cinna", "Cinna the Poet", "Lord Hastings"]
    assert {"senator", "roman", "goth", "poet"} <= persons.roles
