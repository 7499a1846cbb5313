"""Strangers: people of another play that a speech names (agents/strangers.py), the
guard that draws such a candidate again (`no_strangers`) and the arena's figure
(arena/strangers.py)."""

from __future__ import annotations

import json

from conftest import one_draw_agent

from dramatis.agents.strangers import (
    NAMES_FILE,
    SHARED,
    build_homes,
    canon_homes,
    named_strangers,
    strangers,
    strangers_in,
)
from dramatis.personas.corpus import list_plays, load_play

JC, ADO, TN = "julius_caesar", "much_ado_about_nothing", "twelfth_night"


def test_the_shipped_names_are_the_installed_plays():
    shipped = json.loads(NAMES_FILE.read_text(encoding="utf-8"))
    assert shipped["shared"] == SHARED
    assert shipped["homes"] == build_homes()


def test_a_name_of_another_play_is_a_stranger_and_a_name_of_the_scene_is_not():
    assert named_strangers("Good morrow, Signior Peto.", (ADO,)) == ["Peto"]
    assert named_strangers("Marcius, thou dost start up the lion.", (JC,)) == ["Marcius"]
    assert named_strangers("Where is Desdemona? Cassio, speak.", ("othello",)) == []
    # a cast from two plays: each play's people are at home
    assert named_strangers("Brutus and Malvolio, and Desdemona", (JC, TN)) == ["Desdemona"]
    # as the model writes names too: a possessive, capitals, a hyphened word
    assert named_strangers("Where is Peto's horse?", (ADO,)) == ["Peto"]
    assert named_strangers("O PETO, where art thou?", (ADO,)) == ["Peto"]
    assert named_strangers("a Peto-like knave", (ADO,)) == ["Peto"]


def test_common_names_peoples_ranks_places_and_ordinary_words_are_no_strangers():
    homes = canon_homes()
    common = ("Caesar", "John", "Hector", "Achilles", "Hecate", "Antonio", "Duke", "King")
    for name in (*common, "Milan", "York", "Will", "Amazons", "Outlaws", "Goths"):
        assert name not in homes, name
    assert named_strangers("Great Caesar and the Duke of Milan, with good Sir John.", (ADO,)) == []
    assert named_strangers("Outlaws beset the road; the Amazons come.", (JC,)) == []
    assert all(plays and plays <= set(list_plays()) for plays in homes.values())


def test_a_name_the_page_holds_is_the_scenes_own_and_no_play_means_no_strangers():
    assert named_strangers("Peto, come hither.", (ADO,), page="Enter Peto, a stranger.") == []
    assert named_strangers("Good morrow, Alice.", ("hamlet",), page="ALICE: Hello.") == []
    assert named_strangers("Peto, come hither.", ()) == []
    assert strangers(()) == frozenset()


def test_a_play_the_rule_has_not_read_seldom_names_a_stranger():
    """Calibration: each of six plays read by the rule built without its speeches (its
    persons still at home): what the rule would make of allusions it has not seen.
    Measured: 0.6% of the 30,697 speeches of all 37 plays so read name one (docs/arena.md:
    most are other spellings of a play's own people, "Isabel", "Katherine")."""
    plays = (JC, ADO, TN, "hamlet", "henry_v", "tempest")
    speeches = flagged = 0
    for key in plays:
        found = strangers_in(build_homes(leave_out=key), (key,))
        for speech in load_play(key).speeches():
            speeches += 1
            flagged += bool(named_strangers(speech.text, (key,), found=found))
    assert speeches > 4000
    assert flagged / speeches < 0.01


def _agent(no_strangers: bool, replies: list[str]):
    return one_draw_agent(
        "julius_caesar:Brutus", ["Marcus Brutus", "Cassius"], replies, no_strangers=no_strangers
    )


def test_the_guard_draws_again_a_speech_that_names_a_stranger():
    from dramatis.agents.turn import make_turn

    said = ["Marcius, thou art welcome to Rome.", "Cassius, thou art welcome to Rome."]
    opening = [make_turn(0, "Cassius", "Will you go see the order of the course?")]
    for guard, kept in ((True, said[1]), (False, said[0])):
        agent, model = _agent(guard, list(said))
        utterance = agent.speak(opening, "A public place.", seed=3)
        assert utterance.text == kept
        assert agent.strangers(said[0]) == ["Marcius"]
    # a stranger the page names (the setting here) may be named back
    agent, _ = _agent(True, list(said))
    utterance = agent.speak(opening, "A public place. Marcius of Corioli is come.", seed=3)
    assert utterance.text == said[0]
    # ... or an earlier turn, though the prompt has left it out (a long chat)
    news = make_turn(0, "Cassius", "Marcius of Corioli is come to Rome.")
    filler = [make_turn(i, "Cassius", f"Speak, Brutus; the {i}th hour.") for i in range(1, 60)]
    agent, model = _agent(True, list(said))
    utterance = agent.speak([news, *filler], "A public place.", seed=3)
    assert "Marcius" not in model.prompts[0] and utterance.text == said[0]
    # so may someone on stage whose name is a person of another play (a chat's Olivia)
    agent, _ = _agent(True, ["Olivia, thou art welcome to Rome."])
    utterance = agent.speak(opening, "A public place.", seed=3, present=["Cassius", "Olivia"])
    assert utterance.text == "Olivia, thou art welcome to Rome."


def test_the_arena_counts_the_turns_that_name_a_stranger():
    from dramatis.arena.context import Context
    from dramatis.arena.runs import Run
    from dramatis.arena.strangers import Strangers

    turns = [
        {"speaker": "Marcus Brutus", "text": "Marcius, thou art welcome.", "source": "model"},
        {"speaker": "Cassius", "text": "Good Brutus, and good Casca.", "source": "model"},
        {"speaker": "Marcus Brutus", "text": "Where is Peto? And Desdemona?", "source": "model"},
        {"speaker": "Cassius", "text": "Hence, Peto!", "source": "model"},
    ]
    cast = ["julius_caesar:Brutus", "julius_caesar:Cassius"]
    run = Run("r", ["Marcus Brutus", "Cassius"], turns, setting="A street in Rome.")
    score = Strangers().score(run, Context.build(cast))
    assert score.values["strangers"] == 0.75
    assert score.per_turn == [1.0, 0.0, 1.0, 1.0]
    assert score.extra["named"] == ["Desdemona", "Marcius", "Peto"]
    # a name a person of the chat said first, or the setting, is the scene's own; the
    # person's own turns are not counted
    human = {"speaker": "You", "text": "I bring news of Peto.", "source": "human"}
    run = Run("r", ["Marcus Brutus", "Cassius"], [human, turns[3]], setting="Marcius is come.")
    score = Strangers().score(run, Context.build(cast))
    assert score.values["strangers"] == 0.0 and score.per_turn == [0.0, 0.0]
    opening = {"speaker": "Cassius", "text": "Marcius is come.", "source": "play"}
    run = Run("r", ["Marcus Brutus", "Cassius"], [opening, turns[0]])
    assert Strangers().score(run, Context.build(cast)).per_turn == [0.0]
    olivia = {"speaker": "Olivia", "text": "Peto, hence!", "source": "human"}
    hail = {"speaker": "Cassius", "text": "Hail, Olivia! Where is Peto?", "source": "model"}
    run = Run("r", ["Marcus Brutus", "Cassius"], [olivia, hail, turns[2]])
    score = Strangers().score(run, Context.build(cast))
    assert score.per_turn == [0.0, 0.0, 1.0] and score.values["strangers"] == 0.5
    assert score.extra["named"] == ["Desdemona"]  # Olivia named Peto first


def test_a_damaged_names_file_is_one_line_naming_it(tmp_path):
    import pytest

    from dramatis.core.errors import DramatisError

    for text in ('{"homes": {"Peto": "henry_iv_part_1"}}', '{"homes": {"Peto": ["x"]}}', "{"):
        path = tmp_path / "canon_names.json"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(DramatisError) as err:
            canon_homes(path)
        assert str(path) in str(err.value) and "make canon-names" in str(err.value)
        assert "\n" not in str(err.value)


def test_a_name_of_no_play_is_invented_unless_the_page_holds_it():
    from dramatis.agents.strangers import invented, plain
    from dramatis.personas.vocabulary import page_words

    assert invented("Well, Sir Maximinus, and Signior Benedick!") == ["Maximinus"]
    assert invented("His doctor, Doctor Savin, and Covelli's man.") == ["Savin", "Covelli's"]
    assert invented("Is it okay, a phone?") == []  # words of no play, but no names
    # at a sentence's or a line's start a capital says nothing, unless a title is before it
    # or the speech writes the word with a capital elsewhere too
    assert invented("Actually, I go.\nMaybe so. Savin, come!") == []
    assert invented("Sir Maximinus, come.") == ["Maximinus"]
    assert invented("Maximinus! Where is Maximinus?") == ["Maximinus"]
    # as the model may write a name the page holds: curly apostrophes, accents
    assert invented("Come, O\u2019Brien, sit.", page_words("O'Brien waits.")) == []
    assert invented("Come, Zoe, sit.", page_words(plain("Zo\u00eb waits."))) == []
    # a sentence's start after a closing quote or bracket; a title ending a sentence;
    # roman numerals
    assert invented("He cried \u201cAway!\u201d Okay, I go. (So.) Maybe.") == []
    assert invented("I serve my Lord. Okay, then.") == []
    assert invented("Henry IV and Henry VIII, Part II.") == []
    assert invented("Come, good Iago; Desdemona sleeps.") == []  # the plays' own people
    assert invented("Where is Maximinus?", page_words("MAXIMINUS: I am here.")) == []


def test_the_guard_draws_again_a_speech_that_names_someone_of_no_play():
    from pathlib import Path

    from dramatis.agents.turn import make_turn
    from dramatis.personas.cards import card_persona, check_card

    cast = ["Marcus Brutus", "Cassius"]
    said = ["Sir Maximinus, thou art welcome.", "Cassius, thou art welcome."]
    opening = [make_turn(0, "Cassius", "Will you go see the order of the course?")]
    for guard, setting, kept in (
        (True, "A public place.", said[1]),
        (False, "A public place.", said[0]),
        (True, "A public place; Maximinus waits.", said[0]),  # the page holds the name
    ):
        agent, _ = one_draw_agent("julius_caesar:Brutus", cast, said, no_invented=guard)
        assert agent.speak(opening, setting, seed=3).text == kept
    # a cast of cards of no play has no canon to hold its names to: nothing is refused
    path = Path(__file__).parent / "fixtures" / "cards" / "yorick_v2.json"
    yorick = card_persona(check_card(json.loads(path.read_text(encoding="utf-8")), "y"), "User")
    tokyo = ["Sir Maximinus sails for Tokyo.", "Alas."]
    agent, _ = one_draw_agent(yorick, ["Yorick", "User"], tokyo)
    assert agent.settings.no_invented and not agent.canon_plays()
    assert agent.speak(opening, "A churchyard.", seed=3).text == tokyo[0]
