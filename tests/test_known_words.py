"""Words no play uses: the shipped vocabulary of the plays, and best-of-n keeping the
candidate with the fewest of them (`prefer_known`, `known_redraws`, `known_replace`)."""

from __future__ import annotations

import pytest

from dramatis.agents.character import AgentSettings, CharacterAgent
from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.turn import make_turn
from dramatis.agents.wrappers import best_of
from dramatis.arena.canon import canon
from dramatis.personas import find_persona
from dramatis.personas.vocabulary import build_words, plays_words, tokens, unknown

CAST = ["Hamlet", "Horatio"]
SETTING = "Elsinore. A room in the castle."


def hamlet(model, **settings) -> CharacterAgent:
    return CharacterAgent(
        find_persona("Hamlet"), model, cast=CAST, settings=AgentSettings(**settings)
    )


def heard(text="My lord, I came to see your father's funeral.") -> list:
    return [make_turn(0, "Horatio", text, present=CAST)]


def test_the_shipped_vocabulary_is_the_plays_and_the_arenas():
    shipped = plays_words()
    assert shipped == build_words()  # else: make plays-words
    plays = canon()
    assert shipped == set(plays.plays_of) | plays.names
    assert {"'tis", "tis", "o'er", "prithee", "horatio", "malvolio"} <= shipped


def test_unknown_words_are_the_ones_no_play_uses_nor_the_scene_holds():
    assert unknown("Okay, 'tis my phone.") == ["okay", "phone"]
    assert unknown("Thou art a burglar, Quux!", also={"quux"}) == ["burglar"]
    assert unknown("'Tis true; o'er the hill, th' anxiety") == ["anxiety"]
    assert unknown("O, that this too too solid flesh would melt") == []
    assert unknown("Macbeth's sword, the poison's cup, when's supper?") == []  # possessives
    assert unknown("‘Tis the burglar’s") == ["burglar's"]
    assert tokens("’Tis") == ["'tis"]  # curly apostrophes read as straight ones


def test_best_of_keeps_the_candidate_with_the_fewest_unknown_words():
    modern, plain = "My anxiety is like a burglar, friend.", "My fears are like a thief, friend."
    model = FakeModel([modern, plain])
    assert hamlet(model, best_of=2, prefer_known=True).speak(heard(), SETTING, seed=1).text == plain
    model = FakeModel([modern, plain])
    assert hamlet(model, best_of=2).speak(heard(), SETTING, seed=1).text == modern  # off: first


def test_redraws_go_on_only_while_every_candidate_has_an_unknown_word():
    texts = ["A burglar, friend.", "An okay thief, my friend.", "A thief, friend.", "Spare."]
    model = FakeModel(texts)
    said = hamlet(model, prefer_known=True, known_redraws=3).speak(heard(), SETTING, seed=1)
    assert (said.text, said.attempts) == ("A thief, friend.", 3)  # stops at the clean one
    model = FakeModel(texts[:2] + ["Anxiety, burglar, phone."])
    said = hamlet(model, prefer_known=True, known_redraws=2).speak(heard(), SETTING, seed=1)
    assert (said.text, said.attempts) == ("A burglar, friend.", 3)  # the fewest, the first
    model = FakeModel(texts)
    said = hamlet(model, prefer_known=True).speak(heard(), SETTING, seed=1)
    assert (said.text, said.attempts) == ("A burglar, friend.", 1)  # no redraws by default


def test_a_word_the_page_holds_is_the_scenes_own():
    said = "Welcome, Quux, to the burglar's house."
    model = FakeModel(["Welcome, Quux, to the thief's phone.", said])
    turns = heard("I am Quux's man, the burglar, my lord.")  # the transcript holds both
    agent = hamlet(model, best_of=2, prefer_known=True)
    assert agent.speak(turns, SETTING, seed=1).text == said


@pytest.mark.model
def test_the_kept_speech_has_no_more_unknown_words_on_the_real_model(smollm2):
    """The same seeds draw the same three candidates on either setting; keeping the
    fewest unknown words can only lower the count (counted here without the page's own
    words, none of which is outside the plays on this page), and on these seeds it does
    (with the sampler they were chosen under: no top-k)."""
    turns = heard("My lord, tell me of your studies at Wittenberg, and the new engines there.")
    counts = {}
    for prefer in (False, True):
        agent = hamlet(smollm2, best_of=3, prefer_known=prefer, max_tokens=40, top_k=0)
        counts[prefer] = [
            len(unknown(agent.speak(turns, "Elsinore. A room.", seed=s).text)) for s in (3, 4)
        ]
    assert all(k <= o for k, o in zip(counts[True], counts[False], strict=True))
    assert sum(counts[True]) < sum(counts[False]), counts


def test_replace_draws_a_flawed_candidate_again_in_its_place():
    # (text, flaws): the critic (rank) keeps the longest of those with the fewest flaws
    def run(items, **kw):
        return best_of(
            lambda i: items[i],
            lambda c: True,
            lambda found: max(range(len(found)), key=lambda j: len(found[j][0])),
            want=3,
            flaws=lambda c: c[1],
            **kw,
        )

    items = [("a long one, flawed", 1), ("short", 0), ("a bit longer", 0), ("longest yet!!", 0)]
    assert run(items) == (("a bit longer", 0), 3)  # dropped: the longer, flawed one
    assert run(items, replace=3) == (("longest yet!!", 0), 4)  # three clean ones ranked
    flawed = [(f"flawed {i}", 1 + i % 2) for i in range(8)]
    assert run(flawed, replace=3) == (("flawed 0", 1), 6)  # at most `want` more draws
    assert run(flawed) == (("flawed 0", 1), 3)


def test_known_replace_keeps_the_critics_pool_clean():
    texts = ["An okay thief, my friend.", "A thief, friend.", "A thief, my good friend.", "X."]
    said = hamlet(
        FakeModel(texts), best_of=2, prefer_known=True, known_replace=True, keep_candidates=True
    ).speak(heard(), SETTING, seed=1)
    assert said.attempts == 3 and said.candidates == tuple(texts[:3])  # two clean ones ranked
    assert said.text in texts[1:3]
    said = hamlet(FakeModel(texts), best_of=2, prefer_known=True).speak(heard(), SETTING, seed=1)
    assert (said.text, said.attempts) == ("A thief, friend.", 2)
