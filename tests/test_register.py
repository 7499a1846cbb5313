"""The modern-register judge (arena/register.py) on the bundled SmolLM2: real speeches
read as the plays', flat modern English as present-day, each token's log-probability is
the one a single pass over the whole page gives, and a speech's score does not depend on
what was scored before it."""

from __future__ import annotations

import llama_cpp
import numpy as np
import pytest

from dramatis.agents.catalog import resolve_model
from dramatis.arena.context import Context, Contexts
from dramatis.arena.register import BODY_CAP, MODERN_PAGE, judge, plays_page, register_figures
from tests.test_arena_voice import CAST, MODERN, real_pairs

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def ctx() -> Context:
    return Contexts().get(CAST)


def test_the_two_pages_tell_the_same_scene() -> None:
    plays, modern = plays_page().splitlines(), MODERN_PAGE.splitlines()
    assert len(plays) == len(modern) == 24
    assert [p.split(":")[0] for p in plays] == [m.split(":")[0] for m in modern]
    assert plays[13].startswith("CAMILLO: I am appointed him to murder you.")
    assert modern[13] == "CAMILLO: I'm supposed to kill you."


def test_real_speeches_read_as_the_plays_and_modern_sentences_as_today(ctx: Context) -> None:
    real = [{"speaker": s, "text": t} for s, t, _ in real_pairs(ctx)[:60]]
    modern = [{"speaker": ("Beatrice", "Benedick")[i % 2], "text": t} for i, t in enumerate(MODERN)]
    on_real, on_modern = register_figures(real, ctx), register_figures(modern, ctx)
    assert on_real["modern_register"] <= 0.15 < 0.7 <= on_modern["modern_register"]
    assert on_real["register_mean"] < -0.3 < 0.3 < on_modern["register_mean"]
    assert register_figures([{"speaker": "Hamlet", "text": "You're the king."}], ctx) == {}


def test_each_token_is_scored_as_one_pass_over_the_page_scores_it() -> None:
    text = "Thou art a knave, and I'll none of thee."
    got = judge()._modern.log_likelihoods("Beatrice", text)
    llm = llama_cpp.Llama(
        str(resolve_model("smollm2")), n_ctx=1024, logits_all=True, n_threads=1, verbose=False
    )
    page = llm.tokenize(MODERN_PAGE.encode(), add_bos=True)
    head = llm.tokenize(b"BEATRICE:", add_bos=False)
    body = llm.tokenize(f" {text}".encode(), add_bos=False)
    llm.eval(page + head + body)
    logits = np.asarray(llm.scores[: llm.n_tokens])
    want = []
    for i, token in enumerate(body):
        row = logits[len(page) + len(head) + i - 1]  # the logits after the token before
        want.append(row[token] - row.max() - np.log(np.exp(row - row.max()).sum()))
    assert got == pytest.approx(np.array(want), abs=1e-3)


def test_a_score_does_not_depend_on_what_came_before() -> None:
    j = judge()
    first = j.register("Beatrice", "You're the king.")
    j.register("Benedick", "O, that this too too solid flesh would melt, thaw and resolve")
    j._seen.clear()  # score it afresh, after another speech was evaluated on both pages
    assert j.register("Beatrice", "You're the king.") == pytest.approx(first, abs=1e-4)
    assert first > 0.5 > 0 > j.register("Beatrice", "Thou art a knave, and I'll none of thee.")


def test_a_speech_longer_than_the_room_is_read_up_to_its_cap() -> None:
    long = "My lord, I pray you hear me speak; " * 200  # about 2,000 tokens
    j = judge()
    assert len(j._plays.log_likelihoods("Hamlet", long)) == BODY_CAP
    assert np.isfinite(j.register("Hamlet", long))
    assert np.isfinite(j.register("Hamlet", "Words, words, words."))  # the page still holds
