"""Steering a turn toward what memory brings: the cue words, the logit boost on the
real model, and best-of-n preferring a candidate that takes up a memory."""

from __future__ import annotations

import pytest

from dramatis.agents.character import AgentSettings, CharacterAgent
from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.model import Sampling
from dramatis.agents.recall import memory_cues, takes_up
from dramatis.agents.turn import make_turn
from dramatis.personas import find_persona

CAST = ["Ophelia", "Laertes"]
SETTING = "Hamlet, act 4, scene 5. Elsinore. A room in the Castle."
MEMORIES = ["Polonius is dead.", 'Hamlet said: "Get thee to a nunnery, go, farewell."']


class Remembers:
    """A MemorySource that always recalls the same lines."""

    def __init__(self, lines):
        self.lines = list(lines)

    def recall(self, character, cue, k):
        return self.lines[:k]


def ophelia(model, memory=None, **settings) -> CharacterAgent:
    return CharacterAgent(
        find_persona("Ophelia"),
        model,
        cast=CAST,
        settings=AgentSettings(**settings),
        memory=memory,
    )


def heard() -> list:
    return [make_turn(0, "Laertes", "O rose of May, dear maid, kind sister!", present=CAST)]


def test_cues_are_the_words_only_the_memories_hold():
    prompt = "LAERTES: Farewell, sweet sister.\n[Ophelia remembers: " + " ".join(MEMORIES) + "]"
    assert memory_cues(MEMORIES, prompt) == ("Polonius", "Hamlet", "nunnery")
    # "farewell" is on the page already, "thee" and "dead" are too short to count
    assert memory_cues([], prompt) == ()
    assert memory_cues(MEMORIES, prompt, limit=1) == ("Polonius",)


def test_common_and_out_of_world_words_are_never_cues():
    lines = ['Horatio said: "I shall remember the character of the ghost."']
    assert memory_cues(lines, "HAMLET: Speak.") == ("Horatio", "ghost")


def test_takes_up_matches_whole_words_in_any_case():
    assert takes_up("Where is POLONIUS now?", ("polonius",))
    assert not takes_up("Where is Polo?", ("polonius",))
    assert not takes_up("Anything", ())


def test_the_boost_reaches_the_sampling_only_with_memories_and_a_setting():
    model = FakeModel(["My brother speaks.", "My brother speaks again."])
    ophelia(model, memory=Remembers(MEMORIES), memory_boost=2.5).speak(heard(), SETTING, seed=1)
    first = model.samplings[-1]
    assert first.boost == 2.5 and "nunnery" in first.boosted
    assert "Polonius" not in first.boosted  # her card ("daughter to Polonius") names him
    ophelia(model, memory=Remembers(MEMORIES)).speak(heard(), SETTING, seed=1)
    assert model.samplings[-1].boost == AgentSettings().memory_boost == 3.0  # the default
    ophelia(model, memory=Remembers(MEMORIES), memory_boost=0.0).speak(heard(), SETTING, seed=1)
    assert model.samplings[-1].boost == 0.0  # turned off
    model = FakeModel(["My brother speaks."])
    ophelia(model, memory_boost=3.0).speak(heard(), SETTING, seed=1)  # no memory at all
    assert model.samplings[-1].boosted == () and model.samplings[-1].boost == 0.0


def test_best_of_prefers_a_candidate_that_takes_up_a_memory():
    plain, remembering = "Good brother, how you weep.", "Would I were in a nunnery now."
    model = FakeModel([plain, remembering])
    agent = ophelia(model, memory=Remembers(MEMORIES), best_of=2)  # preferred by default
    assert agent.speak(heard(), SETTING, seed=1).text == remembering
    model = FakeModel([plain, remembering])
    agent = ophelia(model, memory=Remembers(MEMORIES), best_of=2, prefer_memory=False)
    assert agent.speak(heard(), SETTING, seed=1).text == plain  # no preference: the first
    model = FakeModel([plain, "Fie upon the world."])  # none takes one up: the first
    agent = ophelia(model, memory=Remembers(MEMORIES), best_of=2, prefer_memory=True)
    assert agent.speak(heard(), SETTING, seed=1).text == plain


@pytest.mark.model
def test_the_boost_brings_a_memory_word_on_the_real_model(smollm2):
    prompt = "OPHELIA: Alas, my lord, where is my"
    greedy = Sampling(max_tokens=4, temperature=0.0, seed=1)
    assert "Polonius" not in smollm2.generate(prompt, greedy).text
    # " Polonius" is three tokens (" Pol", "on", "ius"): the boost starts it, the
    # processor finishes it, and once said it is not pushed again.
    pushed = Sampling(max_tokens=6, temperature=0.0, seed=1, boosted=("Polonius",), boost=10.0)
    text = smollm2.generate(prompt, pushed).text
    assert text.startswith(" Polonius") and text.count("Pol") == 1
    # A banned word is never boosted.
    both = Sampling(
        max_tokens=6, temperature=0.0, seed=1, boosted=("nunnery",), boost=10.0, banned=("nunnery",)
    )
    assert "nunnery" not in smollm2.generate(prompt, both).text.lower()


def test_a_remembered_speech_already_on_the_page_is_left_out():
    visible = heard()
    lines = [
        'Laertes said: "O rose of May, dear maid, kind sister!"',  # the page shows it
        'Hamlet said: "Get thee to a nunnery, go, farewell."',
    ]
    agent = ophelia(FakeModel(["Alas."]), memory=Remembers(lines))
    prompt, _ = agent.prompt(visible, SETTING)
    assert agent.recalled == (lines[1],)
    assert prompt.count("O rose of May") == 1 and "nunnery" in prompt


def test_facts_for_a_prompt_put_kin_and_deaths_before_who_spoke_with_whom():
    from dramatis.memory.knowledge import TALK, prompt_facts
    from dramatis.memory.seed import seed_graph
    from dramatis.personas import load_play

    graph = seed_graph(load_play("hamlet"), "5.2")
    facts = prompt_facts(graph, "Hamlet", "5.2", limit=3)
    assert len(facts) == 3 and not any(t in f for f in facts for t in TALK)
    assert "Hamlet is nephew to Claudius." in facts
