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
    known_nucleus,
    open_word,
)
from dramatis.agents.llama_backend import penalised
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
    "es",  # 15
    "did",  # 16
    "t",  # 17
    "т",  # 18: a Cyrillic letter
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
    masked = keep_known(scores.copy(), "", known, vocab, top_p=0.95)
    assert kept(masked) == {1, 7, 6}  # the comma reaches 0.95
    assert masked[1] == scores[1]  # the kept keep their logits
    assert kept(keep_known(scores.copy(), "", known, vocab, top_p=0.9)) == {1, 7}
    # only the two likeliest are candidates; with none of them known, the rest are
    assert kept(keep_known(scores.copy(), "", known, vocab, 0.95, top_k=2)) == {1}
    scores = toy_scores(t2=5.0, t12=4.5, t1=1.0)
    assert kept(keep_known(scores.copy(), "", known, vocab, 0.95, top_k=2)) == {1}


def test_the_nucleus_is_cut_as_the_penalties_will_weigh_it():
    """A comma spared from the penalties is raised before them (`unpenalise`); the cut
    reads the logits the sampler will see, so the comma is not taken for surer."""
    vocab, known = Vocabulary(TEXTS), KnownWords()
    scores = toy_scores(t6=4.0, t1=3.9)  # " thou" was just said: the penalties lower it
    view = penalised(scores, [1], Sampling(repeat_penalty=1.5, presence_penalty=1.0), 64)
    assert view[1] == pytest.approx(3.9 / 1.5 - 1.0) and view[6] == scores[6]
    assert kept(keep_known(scores.copy(), "", known, vocab, 0.9)) == {6, 1}
    assert kept(keep_known(scores.copy(), "", known, vocab, 0.9, view=view)) == {6}


def test_inside_a_word_only_its_known_endings_are_kept():
    vocab, known = Vocabulary(TEXTS), KnownWords()
    scores = toy_scores(t7=6.0, t4=2.0, t5=1.0, t11=0.5, t0=0.0)
    # "macbeth", and "macbet"/"macd" that may still end as "macbeth"/"macduff"; no end
    # of text and no new word while "mac" is unfinished
    assert kept(keep_known(scores.copy(), "mac", known, vocab, top_p=0.95)) == {4, 5, 11}
    assert kept(keep_known(scores.copy(), "mac", known, vocab, top_p=0.6)) == {4}


def test_a_word_with_no_likely_known_ending_is_let_go_but_the_rest_is_checked():
    vocab, known = Vocabulary(TEXTS), KnownWords()
    # "hobbi" + "es" is wanted; its one known ending ("hobbididence") is all but unlikely
    scores = toy_scores(t15=8.0, t2=6.0, t16=-4.0, t18=5.0)
    found = kept(keep_known(scores.copy(), "hobbi", known, vocab, top_p=0.95))
    assert 15 in found and not found & {2, 18}  # no " okay", no Cyrillic
    # a known word and an apostrophe: "won'" wants "t" ("won't" is no play's)
    scores = toy_scores(t17=8.0, t8=-6.0)
    assert 17 in kept(keep_known(scores.copy(), "won'", known, vocab, top_p=0.95))
    # with a likely known ending the word is held to it
    scores = toy_scores(t15=8.0, t16=5.0)
    assert kept(keep_known(scores.copy(), "hobbi", known, vocab, top_p=0.95)) == {16}
    assert known_nucleus(np.full(len(TEXTS), -np.inf), "", known, vocab, 0.95) is None


def test_the_pages_words_let_their_tokens_through():
    vocab = Vocabulary(TEXTS)
    scores = toy_scores(t9=5.0, t1=4.0)
    assert 9 not in kept(keep_known(scores.copy(), "", KnownWords(), vocab, top_p=0.99))
    masked = keep_known(scores.copy(), "", KnownWords({"zzyzx"}), vocab, top_p=0.99)
    assert {9, 1} <= kept(masked)
    masked = keep_known(toy_scores(t10=5.0, t4=1.0), "zzy", KnownWords({"zzyzx"}), vocab, 0.9)
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
    """A modern page on the bundled model, drawn as a speech is (to the line's end, at
    least 12 tokens): without the mask twelve seeds say 13 words no play uses ("rocket",
    "weekends"); with it, at most half as many. Those left are words the mask let go
    when no known ending was likely ("un" + "appreciated": `known_nucleus`)."""
    page = page_words(PROMPT)
    found = {}
    for on in (False, True):
        texts = [
            smollm2.generate(
                PROMPT,
                Sampling(
                    max_tokens=30, min_tokens=12, temperature=1.0, top_k=0, min_p=0, seed=s,
                    stop=("\n",), known_only=on, page_words=page if on else frozenset(),
                ),
            ).text
            for s in range(1, 13)
        ]  # fmt: skip
        found[on] = [w for t in texts for w in unknown(t, page)]
        assert all(t.strip() for t in texts)
    assert len(found[False]) >= 8, "the page no longer invites modern words: pick another"
    assert 2 * len(found[True]) <= len(found[False]), found
