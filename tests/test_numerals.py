"""Numbers in speech: the plays spell them out, so a speech samples no Arabic numeral
(agents/prompts.py NUMERALS, banned with the out-of-world words)."""

from __future__ import annotations

import re

from dramatis.agents.character import AgentSettings, CharacterAgent
from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.model import Sampling
from dramatis.agents.prompts import NUMERALS
from dramatis.personas import build_persona, list_plays, load_play

DATES = "HAMLET: What day is it, and what hour?\nHORATIO: It is the 2"


def test_the_plays_hold_almost_no_numeral():
    speeches = [s.text for key in list_plays() for s in load_play(key).speeches()]
    assert sum(bool(re.search(r"\d", t)) for t in speeches) < 0.001 * len(speeches)


def test_the_agent_bans_numerals_with_the_out_of_world_words():
    hamlet = build_persona(load_play("hamlet"), "Hamlet")
    model = FakeModel(["Get thee to a nunnery."])
    CharacterAgent(hamlet, model, cast=["Hamlet", "Horatio"]).speak([], "Elsinore.", seed=1)
    assert set(NUMERALS) <= set(model.samplings[0].banned)
    off = FakeModel(["Get thee to a nunnery."])
    plain = AgentSettings(ban_out_of_world=False)
    CharacterAgent(hamlet, off, cast=["Hamlet", "Horatio"], settings=plain).speak([], "", seed=1)
    assert off.samplings[0].banned == ()


def test_a_real_model_writes_no_numeral_when_they_are_banned(smollm2):
    """SmolLM2 goes on with a date in figures unless the numerals are banned."""
    free = Sampling(max_tokens=24, temperature=0.0, seed=0)
    banned = Sampling(max_tokens=24, temperature=0.0, seed=0, banned=NUMERALS)
    assert re.search(r"\d", "".join(smollm2.stream(DATES, free)))
    text = "".join(smollm2.stream(DATES, banned))
    assert text.strip() and not re.search(r"\d", text)
