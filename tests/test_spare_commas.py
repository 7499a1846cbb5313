"""Penalties that spare commas: a speech that used a comma may use another."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import asked_sampling

from dramatis.agents.llama_backend import unpenalise
from dramatis.agents.model import Sampling, asked_features


def penalise(scores: np.ndarray, made: list[int], sampling: Sampling, last_n: int) -> np.ndarray:
    """llama.cpp's repeat and presence penalties, as its sampler applies them."""
    out = scores.copy()
    for i in set(made[-last_n:]):
        x = out[i]
        out[i] = (x * sampling.repeat_penalty if x <= 0 else x / sampling.repeat_penalty) - (
            sampling.presence_penalty
        )
    return out


def test_spared_tokens_end_where_they_started_and_others_are_penalised():
    sampling = Sampling(repeat_penalty=1.2, presence_penalty=0.3, spare_commas=True)
    rng = np.random.default_rng(0)
    scores = rng.normal(0, 3, 50).astype(np.float32)
    made = [3, 7, 7, 11, 40, 2]  # 3 and 7 are "commas"; 40 fell out of the window
    spared = np.array([3, 7, 9, 40])
    before = scores.copy()
    unpenalise(scores, made, spared, sampling, last_n=5)
    after = penalise(scores, made, sampling, last_n=5)
    assert np.allclose(after[[3, 7, 9]], before[[3, 7, 9]], atol=1e-5)  # spared
    assert after[40] == pytest.approx(before[40])  # not in the window: no penalty, no change
    assert after[11] < before[11] and after[2] < before[2]  # words still pay


def test_the_agent_asks_for_it_only_where_the_model_honours_it():
    for supports, expected in ((None, True), ({"repeat_penalty", "presence_penalty"}, False)):
        sampling = asked_sampling(supports, spare_commas=True, length_share=0.0)
        assert sampling.spare_commas is expected
    assert "spare_commas" in asked_features(Sampling(spare_commas=True))
    assert "spare_commas" not in asked_features(Sampling(repeat_penalty=1.2))


@pytest.mark.slow
def test_on_the_default_model_commas_come_back_and_words_still_pay():
    """Gemma 3 270M, greedy, a list the model goes on with, a heavy penalty: without
    sparing, the comma is penalised out after its first use; spared, the list keeps its
    commas, and its words still may not repeat."""
    from dramatis.agents.catalog import DEFAULT_MODEL, resolve_model
    from dramatis.agents.llama_backend import LlamaCppModel

    model = LlamaCppModel(resolve_model(DEFAULT_MODEL), n_threads=2, seed=0)
    marks = {model._llm.detokenize([int(i)]).decode().strip() for i in model.comma_tokens()}
    assert "," in marks and all(set(m) == {","} for m in marks)
    prompt = "Fruits: apples, pears, plums, figs, dates, grapes, cherries, lemons,"
    said = {}
    for spare in (False, True):
        sampling = Sampling(
            max_tokens=24, temperature=0.0, repeat_penalty=3.0, presence_penalty=2.0,
            spare_commas=spare, seed=1, stop=("\n",),
        )  # fmt: skip
        said[spare] = model.generate(prompt, sampling).text
    assert said[False].count(",") <= 1 < said[True].count(","), said
    words = [w.strip(",.").lower() for w in said[True].split()]
    assert len(words) == len(set(words)), said[True]
