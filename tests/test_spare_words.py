"""Penalties that spare the plays' small words: a speech may say "the" twice."""

from __future__ import annotations

from conftest import asked_sampling

from dramatis.agents.character import SPARED_WORDS
from dramatis.agents.model import Sampling, asked_features


def test_the_agent_asks_for_it_only_when_set_and_where_the_model_honours_it():
    cases = (
        (True, None, SPARED_WORDS),
        (False, None, ()),
        (True, {"repeat_penalty", "presence_penalty"}, ()),  # a server backend: not asked
    )
    for spare, supports, expected in cases:
        sampling = asked_sampling(supports, spare_words=spare, length_share=0.0)
        assert sampling.spared_words == expected
    assert "spared_words" in asked_features(Sampling(spared_words=("the",)))
    assert "spared_words" not in asked_features(Sampling(repeat_penalty=1.2))


def test_the_spared_words_are_small_words_of_the_plays():
    from dramatis.agents.critic import FUNCTION_WORDS

    assert len(SPARED_WORDS) == len(set(SPARED_WORDS)) > 40
    assert set(SPARED_WORDS) <= FUNCTION_WORDS
    assert not {"what", "how", "lord", "sir"} & set(SPARED_WORDS)


def test_on_the_default_model_the_small_words_come_back_and_others_still_pay():
    """Gemma 3 270M, greedy, a heavy penalty: unspared, "the" is penalised out after the
    speech's first one; spared, the sentence goes on in the plays' way, and a word not
    spared is still said once only."""
    from dramatis.agents.catalog import DEFAULT_MODEL, resolve_model
    from dramatis.agents.llama_backend import LlamaCppModel

    model = LlamaCppModel(resolve_model(DEFAULT_MODEL), n_threads=2, seed=0)
    pieces = {model._llm.detokenize([int(i)]).decode() for i in model.spared_tokens(SPARED_WORDS)}
    assert {" the", " The", "The", " I", " thou"} <= pieces
    assert "the" not in pieces  # a bare "the" mostly ends another word ("bathe")
    assert all(p.strip().lower() in SPARED_WORDS for p in pieces)
    prompt = "HAMLET: The king is in the garden, and the queen is in the hall, and the"
    said = {}
    for words in ((), SPARED_WORDS):
        sampling = Sampling(
            max_tokens=30, temperature=0.0, repeat_penalty=1.5, presence_penalty=1.0,
            spare_commas=True, spared_words=words, seed=1, stop=("\n",),
        )  # fmt: skip
        said[bool(words)] = model.generate(prompt, sampling).text
    assert said[False].count(" the ") <= 1 < said[True].count(" the "), said
    others = [w.strip(",.").lower() for w in said[True].split()]
    others = [w for w in others if w not in SPARED_WORDS]
    assert others and len(others) == len(set(others)), said[True]
