"""Function words moved toward the plays' rates (`AgentSettings.word_rates`): the bias
the realness table gives, how the agent asks for it, and the llama.cpp backend applying it
(`Sampling.tilted`) on a real model."""

from __future__ import annotations

import re

import pytest

from dramatis.agents.character import AgentSettings, CharacterAgent
from dramatis.agents.critic import FUNCTION_WORDS, TILT_MOST, Realness, bundled_realness
from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.model import FEATURES, Sampling
from dramatis.agents.turn import make_turn
from dramatis.personas import find_persona


def test_the_bias_is_the_function_words_log_odds_capped():
    table = bundled_realness()
    bias = dict(table.word_bias(1.0))
    assert bias and set(bias) <= FUNCTION_WORDS
    assert not any(f.startswith("<") for f in bias)  # no length bucket, no mark
    assert bias["what"] < 0 < bias["upon"]  # the model says "what" too often, "upon" too seldom
    assert all(abs(v) <= TILT_MOST for v in bias.values())
    assert bias["is"] == pytest.approx(table.log_odds["is"], abs=1e-4)
    doubled = dict(table.word_bias(2.0))
    assert doubled["o"] == -TILT_MOST and doubled["is"] == pytest.approx(2 * bias["is"], abs=2e-4)
    assert table.word_bias(0.0) == ()
    # Only words: a made-up table with a mark and a bucket biases the word alone.
    made_up = Realness({"what": 10, "?": 10, "<w9>": 10}, {"what": 30, "?": 30, "<w9>": 3})
    assert [w for w, _ in made_up.word_bias(1.0)] == ["what"]


def speak(model, **settings):
    cast = ["Othello", "Iago"]
    personas = [find_persona(n) for n in cast]
    agent = CharacterAgent(
        personas[1],
        model,
        cast=cast,
        settings=AgentSettings(**settings),
        persons=[p.card() for p in personas],
    )
    turns = [make_turn(0, "Othello", "Where is Cassio?", present=cast)]
    agent.speak(turns, "Cyprus. A street.", seed=1)
    return model.samplings[0]


def test_the_agent_asks_for_the_bias_only_when_on_and_supported():
    assert speak(FakeModel(["I know not, my lord."])).tilted == ()
    on = speak(FakeModel(["I know not, my lord."]), word_rates=1.0)
    assert on.tilted == bundled_realness().word_bias(1.0)
    server_like = FakeModel(["I know not."], supports=[f for f in FEATURES if f != "tilted"])
    assert speak(server_like, word_rates=1.0).tilted == ()


@pytest.mark.model
def test_llama_cpp_applies_the_bias_to_one_token_spellings(smollm2):
    """A tilt of -100 on a word keeps it out, as a ban does; it lands on the word's
    one-token spellings only; a ban on the same word wins over a tilt up."""
    prompt = "HAMLET: To be, or not to be, that is the question. Whether 'tis nobler in the"
    greedy = Sampling(max_tokens=24, temperature=0.0, seed=1)
    words = re.findall(r"[a-z]+", smollm2.generate(prompt, greedy).text.lower())
    common = max(("the", "of", "and", "to", "a"), key=words.count)
    assert common in words
    tilted = Sampling(max_tokens=24, temperature=0.0, seed=1, tilted=((common, -100.0),))
    assert common not in re.findall(r"[a-z]+", smollm2.generate(prompt, tilted).text.lower())
    ids = smollm2.tilt_tokens(((common, -100.0),))
    assert ids and all(len(smollm2._llm.detokenize([i]).strip()) == len(common) for i in ids)
    both = Sampling(banned=(common,), tilted=((common, 3.0),))
    assert all(smollm2.logit_bias(both)[i] == -100.0 for i in ids)
