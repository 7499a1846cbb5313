"""Long words raised: a logit bias on the tokens that start a word of six letters or
more (`AgentSettings.long_words`, `Sampling.long_words`)."""

from __future__ import annotations

import re

from conftest import asked_sampling

from dramatis.agents.model import LONG_LETTERS, Sampling, asked_features


def test_the_agent_asks_for_it_only_when_set_and_where_the_model_honours_it():
    cases = ((0.5, None, 0.5), (0.0, None, 0.0), (0.5, {"repeat_penalty", "presence_penalty"}, 0.0))
    for weight, supports, expected in cases:
        sampling = asked_sampling(supports, long_words=weight, length_share=0.0)
        assert sampling.long_words == expected
    assert "long_words" in asked_features(Sampling(long_words=-0.5))
    assert "long_words" not in asked_features(Sampling(tilted=(("what", -1.0),)))


def test_the_weight_is_bounded():
    from dramatis.agents.settings_check import rule_for

    assert rule_for("long_words").problem(0.5) is None
    assert rule_for("long_words").problem(9.0) == "must be from -2 to 2"


def test_on_the_default_model_long_words_come_first_and_the_ban_still_wins():
    """Gemma 3 270M, greedy: the tokens raised start a lower-case word of six letters or
    more, and a heavy bias turns the next word into one; a banned word stays out."""
    from dramatis.agents.catalog import DEFAULT_MODEL, resolve_model
    from dramatis.agents.llama_backend import LlamaCppModel

    model = LlamaCppModel(resolve_model(DEFAULT_MODEL), n_threads=2, seed=0)
    ids = model.long_tokens().tolist()
    pieces = [model._llm.detokenize([i]).decode("utf-8", "ignore") for i in ids]
    assert len(pieces) > 5_000
    assert all(re.fullmatch(rf" [a-z]{{{LONG_LETTERS},}}", p) for p in pieces)
    assert {" pardon", " vassals"} <= set(pieces)
    spelled = {w: model._llm.tokenize(w.encode(), add_bos=False) for w in (" Venice", " aandacht")}
    assert all(len(ids) == 1 for ids in spelled.values())  # each one token of the model
    assert not {" Venice", " aandacht"} & set(pieces)  # a name; another language's word
    # the bias: the same for every long token, added to a tilt's, the ban winning; each
    # mix kept apart by its weights
    pardon = model._llm.tokenize(b" pardon", add_bos=False)[0]
    half = model.logit_bias(Sampling(long_words=0.5))
    assert set(half) == set(ids) and set(half.values()) == {0.5}
    both = model.logit_bias(Sampling(long_words=1.0, tilted=(("pardon", 0.25),)))
    assert both[pardon] == 1.25 and model.logit_bias(Sampling(long_words=0.5))[pardon] == 0.5
    banned = model.logit_bias(Sampling(long_words=1.0, banned=("pardon",)))
    assert banned[pardon] == -100.0
    prompt = "HAMLET: I pray you, good Horatio, tell me"
    said = {}
    for weight in (0.0, 8.0):
        sampling = Sampling(max_tokens=1, temperature=0.0, long_words=weight, seed=1)
        said[weight] = model.generate(prompt, sampling).text
    assert not re.fullmatch(r" [a-z]{6,}", said[0.0]), said
    assert re.fullmatch(r" [a-z]{6,}", said[8.0]), said
    first = said[8.0].strip()
    banned = Sampling(max_tokens=1, temperature=0.0, long_words=8.0, seed=1, banned=(first,))
    assert model.generate(prompt, banned).text.strip() != first
