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
    assert not any(len(w) == 1 for w in bias)  # " O", " I", " a" begin names and words
    assert not any(f.startswith("<") for f in bias)  # no length bucket, no mark
    assert bias["what"] < 0 < bias["upon"]  # the model says "what" too often, "upon" too seldom
    assert all(abs(v) <= TILT_MOST for v in bias.values())
    assert bias["is"] == pytest.approx(table.log_odds["is"], abs=1e-4)
    doubled = dict(table.word_bias(2.0))
    assert doubled["what"] == -TILT_MOST and doubled["is"] == pytest.approx(
        2 * bias["is"], abs=2e-4
    )
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


@pytest.mark.model
def test_the_tilt_lands_on_word_starts_once_on_either_path(smollm2):
    """The tilt's tokens start a word (" What", not the "what" of "some|what"); the first
    piece of " Othello" is untouched by the shipped tilt; a finite tilt is applied once,
    by llama-cpp-python's own bias without a processor and by the processor with one."""
    import numpy as np

    from dramatis.agents.llama_backend import LlamaCppModel

    assert LlamaCppModel.forms("'tis") == ["'tis", "'Tis", " 'tis", " 'Tis"]
    shipped = bundled_realness().word_bias(1.0)
    ids = smollm2.tilt_tokens(shipped)
    tokenize = smollm2._llm.tokenize
    for name in (b" Othello", b" Olivia", b" Iago"):
        toks = tokenize(name, add_bos=False, special=False)
        assert len(toks) == 1 or toks[0] not in ids, name
    bare = tokenize(b"what", add_bos=False, special=False)
    assert len(bare) == 1 and bare[0] not in ids  # the end of "some|what"
    what = smollm2._llm.tokenize(b" What", add_bos=False, special=False)
    assert len(what) == 1 and ids[what[0]] == dict(shipped)["what"]

    plain = Sampling(max_tokens=4, seed=1, tilted=(("the", 2.0),))
    kwargs = smollm2._kwargs(plain)
    assert "logits_processor" not in kwargs
    assert kwargs["logit_bias"] == smollm2.tilt_tokens(plain.tilted)
    floor = Sampling(max_tokens=4, seed=1, min_tokens=1, tilted=(("the", 2.0),))
    kwargs = smollm2._kwargs(floor, "HAMLET:")
    assert kwargs["logit_bias"] is None and kwargs["logits_processor"]
    prompt_ids = np.array(smollm2._llm.tokenize(b"HAMLET:", special=True), dtype=np.intc)
    made = np.append(prompt_ids, [1, 2]).astype(np.intc)  # past the floor: no break is barred
    scores = kwargs["logits_processor"][0](made, np.zeros(smollm2._llm.n_vocab(), dtype=np.float32))
    tilt = smollm2.tilt_tokens(floor.tilted)
    assert tilt and all(scores[i] == 2.0 for i in tilt)
    assert np.count_nonzero(scores) == len(tilt)
