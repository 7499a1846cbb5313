"""Strangers: people of another play that a speech names (agents/strangers.py), the
guard that draws such a candidate again (`no_strangers`) and the arena's figure
(arena/strangers.py)."""

from __future__ import annotations

import json

from dramatis.agents.strangers import (
    NAMES_FILE,
    SHARED,
    build_homes,
    canon_homes,
    named_strangers,
    strangers,
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
    # Othello speaks of a Signior Angelo: at home there, a stranger at Julius Caesar
    assert named_strangers("Signior Angelo is come.", ("othello",)) == []
    assert named_strangers("Signior Angelo is come.", (JC,)) == ["Angelo"]
    # a cast from two plays: each play's people are at home
    assert named_strangers("Brutus and Malvolio, and Desdemona", (JC, TN)) == ["Desdemona"]


def test_common_names_ranks_places_and_ordinary_words_are_no_strangers():
    homes = canon_homes()
    for name in ("Caesar", "John", "Hector", "Antonio", "Duke", "King", "Milan", "York", "Will"):
        assert name not in homes, name
    assert named_strangers("Great Caesar and the Duke of Milan, with good Sir John.", (ADO,)) == []
    assert all(plays and plays <= set(list_plays()) for plays in homes.values())


def test_a_name_the_page_holds_is_the_scenes_own_and_no_play_means_no_strangers():
    assert named_strangers("Peto, come hither.", (ADO,), page="Enter Peto, a stranger.") == []
    assert named_strangers("Peto, come hither.", ()) == []
    assert strangers(()) == frozenset()


def test_no_real_speech_names_a_stranger_to_its_own_play():
    """Calibration: every speech of the 37 plays read against its own play (30,000 and
    more), and a held-out cross-play pair's real lines against the pair."""
    flagged = []
    for key in list_plays():
        for speech in load_play(key).speeches():
            found = named_strangers(speech.text, (key,))
            if found:
                flagged.append((key, speech.index, found))
    assert flagged == []
    pair = [s.text for s in load_play(JC).speeches() if s.speaker == "Marcus Brutus"]
    pair += [s.text for s in load_play(TN).speeches() if s.speaker == "Viola"]
    assert len(pair) > 300
    assert not any(named_strangers(text, (JC, TN)) for text in pair)


def _agent(no_strangers: bool, replies: list[str]):
    from dramatis.agents.character import AgentSettings, CharacterAgent
    from dramatis.agents.fake_backend import FakeModel
    from dramatis.personas import find_persona

    model = FakeModel(replies)
    brutus = find_persona("julius_caesar:Brutus")
    settings = AgentSettings(
        prompt_format="page", best_of=1, retries=2, no_strangers=no_strangers, length_share=0.0
    )
    agent = CharacterAgent(brutus, model, cast=[brutus.name, "Cassius"], settings=settings)
    return agent, model


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
    # a name a person of the chat said first, or the setting, is the scene's own
    human = {"speaker": "You", "text": "I bring news of Peto.", "source": "human"}
    run = Run("r", ["Marcus Brutus", "Cassius"], [human, turns[3]], setting="Marcius is come.")
    score = Strangers().score(run, Context.build(cast))
    assert score.values["strangers"] == 0.0 and score.per_turn == [0.0, 0.0]
