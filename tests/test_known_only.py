"""Known words only (`known_only`): the sampler draws no word that no play uses and the
page does not hold (agents/known_words.py), on a toy vocabulary and on a real model."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dramatis.agents.character import AgentSettings, CharacterAgent
from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.known_words import (
    KnownWords,
    Piece,
    Vocabulary,
    after,
    keep_known,
    open_word,
)
from dramatis.agents.model import FEATURES, Sampling
from dramatis.agents.turn import make_turn
from dramatis.personas import find_persona
from dramatis.personas.vocabulary import page_words, unknown

# A toy vocabulary: token id -> text
TEXTS = [
    "",  # 0: end of text
    " thou",  # 1
    " okay",  # 2
    " Mac",  # 3
    "beth",  # 4
    "bet",  # 5
    ",",  # 6
    " the",  # 7
    "'s",  # 8
    " Zzy",  # 9
    "zx",  # 10
    "d",  # 11
    ", okay",  # 12
    " speak",  # 13
    "'d",  # 14
]


def test_a_token_is_cut_where_word_characters_meet_others():
    assert Piece.of("ght") == Piece("ght", False, (), "")
    assert Piece.of(" Thou") == Piece("", True, (), "thou")
    assert Piece.of("s, and so") == Piece("s", True, ("and",), "so")
    assert Piece.of("\n") == Piece("", True, (), "")
    assert Piece.of("\u2019s") == Piece("'s", False, (), "")  # curly apostrophes read straight
    assert open_word("Thou art Macb") == "macb" and open_word("so.") == ""
    assert after("mac", Piece.of("beth")) == "macbeth"
    assert after("macbeth", Piece.of(", the")) == "the"
    assert after(None, Piece.of("zz")) is None and after(None, Piece.of(" so")) == "so"


def test_a_word_may_be_begun_only_if_it_can_end_known():
    known = KnownWords()
    assert known.allows("", Piece.of(" thou")) and not known.allows("", Piece.of(" okay"))
    assert known.allows("mac", Piece.of("beth")) and not known.allows("mac", Piece.of(" the"))
    assert known.allows("macbeth", Piece.of("'s"))  # a possessive
    assert not known.allows("speak", Piece.of("'d"))  # a form no play has ("speak'st" is)
    assert known.allows("o", Piece.of("'")) and known.allows("o'", Piece.of("er"))
    assert not known.allows("", Piece.of(", okay"))  # a whole word inside the token
    assert not known.allows("mac", Piece.of(""))  # no end inside an unfinished word
    assert known.allows(None, Piece.of("zzz"))  # a word let go goes on unchecked
    assert not KnownWords().allows("", Piece.of(" Zzy"))
    assert KnownWords({"zzyzx"}).allows("", Piece.of(" Zzy"))  # the page's own words


def toy_scores(**logits: float) -> np.ndarray:
    scores = np.full(len(TEXTS), -30.0, dtype=np.float32)
    for text_id, value in logits.items():
        scores[int(text_id[1:])] = value
    return scores


def kept(scores: np.ndarray) -> set[int]:
    return set(np.flatnonzero(np.isfinite(scores)).tolist())


def test_the_mask_keeps_the_nucleus_of_the_known_tokens():
    vocab, known = Vocabulary(TEXTS), KnownWords()
    # " okay" is likeliest but unknown; " thou" and " the" hold 94% of the known mass
    scores = toy_scores(t2=5.0, t1=4.0, t7=3.0, t6=1.5)
    share = (math.exp(4) + math.exp(3)) / (math.exp(4) + math.exp(3) + math.exp(1.5))
    assert 0.9 < share < 0.95
    masked, cut = keep_known(scores.copy(), "", known, vocab, top_p=0.95)
    assert cut and kept(masked) == {1, 7, 6}  # the comma reaches 0.95
    assert masked[1] == scores[1]  # the kept keep their logits
    masked, _ = keep_known(scores.copy(), "", known, vocab, top_p=0.9)
    assert kept(masked) == {1, 7}
    masked, _ = keep_known(scores.copy(), "", known, vocab, top_p=0.95, top_k=2)
    assert kept(masked) == {1}  # only the two likeliest were candidates


def test_inside_a_word_only_its_known_endings_are_kept():
    vocab, known = Vocabulary(TEXTS), KnownWords()
    scores = toy_scores(t7=6.0, t4=2.0, t5=1.0, t0=0.0)
    masked, cut = keep_known(scores.copy(), "mac", known, vocab, top_p=0.95)
    # "macbeth", and "macbet"/"macd" that may still end as "macbeth"/"macduff"; no end
    # of text and no new word while "mac" is unfinished
    assert cut and kept(masked) == {4, 5, 11}


def test_a_word_with_no_known_ending_is_let_go():
    vocab, known = Vocabulary(TEXTS), KnownWords()
    scores = toy_scores(t14=8.0, t7=6.0)  # "speak" + "'d" is wanted; the rest is noise
    masked, cut = keep_known(scores.copy(), "speak", known, vocab, top_p=0.95)
    assert cut and 14 not in kept(masked)  # "speak" is whole: a new word may follow
    scores = toy_scores(t5=8.0, t7=6.0)
    masked, cut = keep_known(scores.copy(), "zanzi", known, vocab, top_p=0.95)
    assert not cut and np.array_equal(masked, scores)  # no ending is known: left as it is


def test_the_pages_words_let_their_tokens_through():
    vocab = Vocabulary(TEXTS)
    scores = toy_scores(t9=5.0, t1=4.0)
    masked, _ = keep_known(scores.copy(), "", KnownWords(), vocab, top_p=0.99)
    assert 9 not in kept(masked)
    masked, _ = keep_known(scores.copy(), "", KnownWords({"zzyzx"}), vocab, top_p=0.99)
    assert {9, 1} <= kept(masked)
    masked, _ = keep_known(toy_scores(t10=5.0, t4=1.0), "zzy", KnownWords({"zzyzx"}), vocab, 0.9)
    assert kept(masked) == {10}


def test_the_agent_asks_for_it_with_the_pages_words():
    cast = ["Hamlet", "Horatio"]
    model = FakeModel(["My lord, good night."])
    agent = CharacterAgent(
        find_persona("Hamlet"), model, cast=cast, settings=AgentSettings(known_only=True)
    )
    turns = [make_turn(0, "Horatio", "Zanzibar sends word, my lord.", present=cast)]
    agent.speak(turns, "Elsinore.", seed=1)
    sampling = model.samplings[0]
    assert sampling.known_only and {"zanzibar", "horatio", "elsinore"} <= sampling.page_words
    assert sampling.page_words == page_words(model.prompts[0])
    # off by default, and not asked of a backend that lacks it
    model = FakeModel(["My lord."])
    CharacterAgent(find_persona("Hamlet"), model, cast=cast).speak(turns, "Elsinore.", seed=1)
    assert not model.samplings[0].known_only
    model = FakeModel(["My lord."], supports=set(FEATURES) - {"known_only"})
    agent = CharacterAgent(
        find_persona("Hamlet"), model, cast=cast, settings=AgentSettings(known_only=True)
    )
    agent.speak(turns, "Elsinore.", seed=1)
    assert not model.samplings[0].known_only


PROMPT = (
    "A conversation.\n\nAnna: What did you do at the weekend?\n"
    "Ben: I watched television and played computer games with my friends. Okay,"
)


@pytest.mark.model
def test_the_real_model_draws_known_words(smollm2):
    """A modern page on the bundled model: without the mask eight seeds say ten words no
    play uses ("snipers", "weekends"); with it, at most a quarter as many. Those left
    are words the mask let go when no known ending was likely ("Alex" + "a" has only
    Antony's "Alexas" to become, and the model meant a name: `keep_known`)."""
    page = page_words(PROMPT)
    found = {}
    for on in (False, True):
        texts = [
            smollm2.generate(
                PROMPT,
                Sampling(
                    max_tokens=30, temperature=1.0, top_k=0, min_p=0, seed=s,
                    known_only=on, page_words=page if on else frozenset(),
                ),
            ).text
            for s in range(1, 9)
        ]  # fmt: skip
        found[on] = [w for t in texts for w in unknown(t, page)]
        assert all(t.strip() for t in texts)
    assert len(found[False]) >= 6, "the page no longer invites modern words: pick another"
    assert len(found[True]) <= len(found[False]) // 4, found
