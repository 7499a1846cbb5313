"""A character's own words: which words they are, that the agent raises only those no
one in the scene has said yet, and that the raise moves the real model."""

from __future__ import annotations

import pytest

from dramatis.agents.character import AgentSettings, CharacterAgent
from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.model import FEATURES, Sampling, asked_features
from dramatis.agents.turn import make_turn
from dramatis.memory.voice import COMMON, PlayVoices, distinctive, own_words
from dramatis.personas import find_persona

CAST = ["Malvolio", "Viola"]
SETTING = "A room in Olivia's house."


def test_distinctive_words_are_the_ones_a_speaker_uses_more_than_the_rest():
    own = ["Yellow stockings, yellow!", "Cross-gartered, yellow; and the letter."]
    others = ["The sun is up, and the letter is fair.", "Go, the day is long."] * 3
    found = distinctive(own, others, least=2)
    assert found == ("yellow",)  # "letter" is the others' word too; the rest once only
    assert distinctive([], others) == ()


def test_names_short_words_and_common_words_are_never_own_words():
    own = ["Olivia, Olivia, sweet Olivia!", "Would that that were so; would that it were."] * 3
    found = distinctive(own, ["The sun is up and the day is fair."] * 5, least=2)
    assert "olivia" not in found  # a name: capitalised wherever it is said
    assert not set(found) & COMMON and all(len(w) >= 4 for w in found)
    assert "sweet" in found


def test_a_real_character_gets_words_of_its_own_part():
    malvolio = own_words("twelfth_night", "Malvolio")
    assert {"yellow", "stockings", "greatness"} <= set(malvolio)
    assert len(malvolio) == 24
    viola = own_words("twelfth_night", "Viola")
    assert "yellow" not in viola


def test_own_words_come_only_from_before_the_story_horizon():
    whole = PlayVoices({"Othello": "othello"}).own_words("Othello")
    at_3_3 = PlayVoices({"Othello": "othello"}, horizons={"othello": "3.3"}).own_words("Othello")
    assert "handkerchief" in whole  # first spoken of in 3.3
    assert "handkerchief" not in at_3_3


def test_a_character_of_no_play_has_no_own_words():
    assert PlayVoices({"Nobody": "no_such_play"}).own_words("Nobody") == ()


def malvolio(model, **settings) -> CharacterAgent:
    return CharacterAgent(
        find_persona("Malvolio"),
        model,
        cast=CAST,
        settings=AgentSettings(**settings),
        voice=PlayVoices({"Malvolio": "twelfth_night", "Viola": "twelfth_night"}),
    )


def test_the_agent_raises_its_own_words_that_the_scene_has_not_said():
    heard = [make_turn(0, "Viola", "What of your yellow stockings, sir?", present=CAST)]
    model = FakeModel(["Madam, I am not mad."])
    malvolio(model, own_words=1.5).speak(heard, SETTING, seed=1)
    sampling = model.samplings[-1]
    assert sampling.own_boost == 1.5 and "greatness" in sampling.own_words
    assert "yellow" not in sampling.own_words  # Viola has said it
    assert "stockings" not in sampling.own_words
    assert "boosted" in asked_features(sampling)


def test_own_words_are_off_by_setting_and_for_a_backend_without_boosts():
    heard = [make_turn(0, "Viola", "Good day, sir.", present=CAST)]
    model = FakeModel(["Madam."])
    malvolio(model, own_words=0.0).speak(heard, SETTING, seed=1)
    assert model.samplings[-1].own_words == () and model.samplings[-1].own_boost == 0.0

    model = FakeModel(["Madam."], supports=set(FEATURES) - {"boosted"})
    malvolio(model, own_words=1.5).speak(heard, SETTING, seed=1)
    assert model.samplings[-1].own_words == () and model.samplings[-1].own_boost == 0.0


@pytest.mark.model
def test_an_own_word_is_raised_on_the_real_model_and_said_once(smollm2):
    prompt = "MALVOLIO: Go to, I will wear my"
    greedy = Sampling(max_tokens=6, temperature=0.0, seed=1)
    assert "yellow" not in smollm2.generate(prompt, greedy).text.lower()
    raised = Sampling(max_tokens=12, temperature=0.0, seed=1, own_words=("yellow",), own_boost=12.0)
    text = smollm2.generate(prompt, raised).text.lower()
    assert text.split()[0].strip(".,;!") == "yellow" and text.count("yellow") == 1
    # A memory cue and an own word at once: each gets its own raise.
    both = Sampling(
        max_tokens=12, temperature=0.0, seed=1, boosted=("yellow",), boost=0.0,
        own_words=("stockings",), own_boost=12.0,
    )  # fmt: skip
    assert smollm2.generate(prompt, both).text.lower().split()[0].strip(".,;!") == "stockings"
