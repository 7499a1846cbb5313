"""Self-repeats: words a speech says again, against its speakers' real share."""

from __future__ import annotations

import pytest

from dramatis.arena.baselines import held_out_speeches
from dramatis.arena.context import Context, Contexts
from dramatis.arena.runs import Run
from dramatis.arena.self_repeats import (
    LEAST_SPEECHES,
    LENGTH_BANDS,
    band,
    cast_shares,
    expected_share,
    real_shares,
    reference,
    repeats,
    self_repeat_figures,
)
from dramatis.arena.voice import pooled_voice

CAST = ["Beatrice", "Benedick"]
# Present-day sentences of distinct words, as a sampler with heavy penalties writes them
THIN = [
    "I never thought that you would come back here tonight.",
    "What makes me curious is how much she likes you.",
    "He said his brother went away before the wedding started.",
    "Tell me why everyone keeps looking at my new hat.",
]


@pytest.fixture(scope="module")
def ctx() -> Context:
    return Contexts().get(CAST)


def turns_of(texts: list[str], source: str = "model") -> list[dict]:
    return [{"speaker": CAST[i % 2], "text": t, "source": source} for i, t in enumerate(texts)]


def test_repeats_and_bands() -> None:
    assert repeats(["the", "king", "and", "the", "queen"]) == 1
    assert repeats(["to", "be", "or", "not", "to", "be"]) == 2
    assert repeats([]) == 0
    lengths = (1, 3, 4, 11, 12, 39, 40, 59, 60, 99, 100, 400)
    assert [band(n) for n in lengths] == [0, 0, 1, 2, 3, 5, 6, 6, 7, 7, 8, 8]


def test_held_out_real_lines_score_near_one_and_thin_sentences_far_below(ctx: Context) -> None:
    # The held-out speeches are the attribution judge's test speeches; the real shares
    # come from its training speeches only, so this is out of sample.
    held = held_out_speeches(ctx)
    for name in CAST:
        assert not {s.text for s in held[name]} & set(reference(ctx, name))
    real = [{"speaker": n, "text": s.text, "source": "baseline"} for n in CAST for s in held[n]]
    figures = self_repeat_figures(real, ctx)
    assert 0.7 < figures["self_repeats_ratio"] < 1.4, figures
    thin = self_repeat_figures(turns_of(THIN), ctx)
    assert thin["self_repeats"] == 0.0 and thin["self_repeats_ratio"] == 0.0
    assert thin["real_self_repeats"] > 0.05  # their real speeches of ~10 words do repeat
    # The same sentences with their small words said again, as the plays say them
    again = turns_of(["I never thought that you would come back, that you would come."] * 4)
    assert self_repeat_figures(again, ctx)["self_repeats_ratio"] > 1.0


def test_a_thin_band_takes_the_cast_pool_and_strangers_are_left_out(ctx: Context) -> None:
    sources = set()
    for name in CAST:
        own = real_shares(ctx, name)
        for i, n in enumerate(LENGTH_BANDS):
            share, count = own.get(i, (0.0, 0))
            if count >= LEAST_SPEECHES:
                assert expected_share(ctx, name, n) == share
                sources.add("own")
            else:  # Benedick has 9 real speeches of 12-15 words
                assert expected_share(ctx, name, n) == cast_shares(ctx)[i][0]
                sources.add("cast")
    assert sources == {"own", "cast"}
    stranger = [{"speaker": "Hamlet", "text": "The king, the king!", "source": "model"}]
    assert self_repeat_figures(stranger, ctx) == {}


def test_pooled_voice_reports_it(ctx: Context) -> None:
    figures = pooled_voice([Run("r0", CAST, turns_of(THIN * 3), config="test")], ctx)
    assert figures["self_repeats_ratio"] == 0.0
