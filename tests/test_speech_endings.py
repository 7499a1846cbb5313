"""Length and endings: a speech ends at a sentence's end, never inside a clause, and each
character's speeches run to lengths drawn from its own real ones."""

from __future__ import annotations

import statistics

from dramatis.agents.character import AgentSettings, CharacterAgent
from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.guard import ends_sentence
from dramatis.agents.length import real_speeches
from dramatis.agents.turn import make_turn
from dramatis.personas import find_persona

CAST = ["Hamlet", "Horatio"]  # men: "my lord" and "sir" are titles Horatio takes
SETTING = "A room in the castle."


def agent(model, name="Hamlet", cast=CAST, **settings) -> CharacterAgent:
    options = {"prompt_format": "page", "length_share": 0.0, **settings}
    return CharacterAgent(
        find_persona(name),
        model,
        cast=cast,
        settings=AgentSettings(**options),
        persons=[find_persona(n).card() for n in cast],
    )


def opening(cast=CAST) -> list:
    return [make_turn(0, cast[-1], "Good my lord, how does your honour?", present=cast)]


def test_a_speech_cut_at_the_token_limit_runs_on_to_its_sentence_end():
    """The limit cuts after "there": the same prompt, the cut speech appended, runs on
    and stops at the first sentence end, so the next speaker never finishes it."""
    model = FakeModel(["I will go to the castle, and there I", " shall find him. And then"])
    said = agent(model, max_tokens=8, finish_tokens=6).speak(opening(), SETTING, seed=1)
    assert said.text == "I will go to the castle, and there shall find him."
    assert model.prompts[1] == model.prompts[0] + "I will go to the castle, and there"
    assert model.samplings[1].max_tokens == 6 and model.samplings[1].min_tokens == 0
    # the run-on tells the backend it continues the draw (llama.cpp keeps the made tokens)
    assert [s.continues for s in model.samplings] == [False, True]


def test_a_cut_speech_keeps_its_whole_sentences_only():
    model = FakeModel(["Ay, my lord. I will go to the castle, and", " there, with"])
    said = agent(model, max_tokens=9, finish_tokens=2).speak(opening(), SETTING, seed=1)
    assert said.text == "Ay, my lord." and said.attempts == 1


def test_a_cut_speech_with_no_sentence_end_is_drawn_again():
    model = FakeModel(["Go, my lord, and yet I", " pray you, sir,", "Away, I say!"])
    said = agent(model, max_tokens=5, finish_tokens=3).speak(opening(), SETTING, seed=1)
    assert said.text == "Away, I say!" and said.attempts == 2 and said.source == "model"


def test_a_speech_the_model_ends_on_a_comma_ends_with_a_full_stop():
    """The model wrote the next heading after a comma: the speech stops there, whole."""
    model = FakeModel(["Come hither, sir,\nOPHELIA: What, my lord?"], stops=False)
    assert agent(model).speak(opening(), SETTING, seed=1).text == "Come hither, sir."
    model = FakeModel(["I will. And yet, my lord,\nOPHELIA: What?"], stops=False)
    assert agent(model).speak(opening(), SETTING, seed=2).text == "I will."


def test_no_speech_ends_inside_a_clause():
    """Texts cut anywhere by a small token limit: every speech that comes out ends a
    sentence (the run-on is off here, so only trimming and retries act)."""
    words = "Nay, my lord, I know not; but come, and, if it please you, speak. Farewell, sir!"
    endings = []
    for limit in range(3, len(words.split()) + 1):
        model = FakeModel([words] * 4)
        said = agent(model, max_tokens=limit, finish_tokens=0, retries=3).speak(
            opening(), SETTING, seed=limit
        )
        endings.append((said.source, said.text))
        assert ends_sentence(said.text), said.text
    assert ("model", "Nay, my lord, I know not; but come, and, if it please you, speak.") in endings


def test_each_character_draws_its_floor_from_its_own_real_speeches():
    def floors(name: str, cast: list[str], share: float) -> list[int]:
        model = FakeModel()
        who = agent(model, name=name, cast=cast, length_share=share, max_tokens=60)
        for seed in range(40):
            who.speak(opening(cast), SETTING, seed=seed)
        return [s.min_tokens for s in model.samplings]

    cast = ["Macbeth", "Horatio"]
    macbeth, horatio = floors("Macbeth", cast, 0.8), floors("Horatio", cast[::-1], 0.8)
    assert statistics.median(macbeth) > 1.5 * statistics.median(horatio) > 0
    real = [len(t.split()) for t in real_speeches("macbeth", "Macbeth")]  # FakeModel: words
    assert set(macbeth) <= {min(45, int(n * 0.8)) for n in real}
    assert floors("Macbeth", cast, 0.0) == [0] * 40
    assert floors("Macbeth", cast, 0.8) == macbeth  # seeded by the turn: a rerun agrees


def test_past_its_floor_a_speech_ends_at_its_first_sentence_end():
    """Floor 5 words (FakeModel's tokens are words): "Ay." is too short to end on, and the
    next sentence end, past the floor, ends the speech; with `end_past_floor` off, the
    speech runs on as long as the model writes."""
    text = "Ay. I will go there now. And then we shall see it done. Farewell."
    said = agent(FakeModel([text]), min_tokens=5, end_past_floor=True).speak(
        opening(), SETTING, seed=1
    )
    assert said.text == "Ay. I will go there now."
    said = agent(FakeModel([text]), min_tokens=5).speak(opening(), SETTING, seed=1)
    assert said.text == text  # off by default
    said = agent(FakeModel([text]), min_tokens=7, end_past_floor=True).speak(
        opening(), SETTING, seed=1
    )
    assert said.text == "Ay. I will go there now. And then we shall see it done."


def test_the_token_limit_follows_the_drawn_real_speech():
    """With `length_ceiling`, each turn's token limit is that multiple of the same real
    speech its floor is drawn from (at least 12 tokens and 8 past the floor, at most
    `max_tokens`): Macbeth's limits run longer than Horatio's, and off, it is `max_tokens`."""

    def bounds(name: str, cast: list[str], ceiling: float) -> list[tuple[int, int]]:
        model = FakeModel()
        who = agent(model, name=name, cast=cast, length_share=0.8, length_ceiling=ceiling)
        for seed in range(40):
            who.speak(opening(cast), SETTING, seed=seed)
        return [(s.min_tokens, s.max_tokens) for s in model.samplings]

    cast = ["Macbeth", "Horatio"]
    macbeth, horatio = bounds("Macbeth", cast, 1.0), bounds("Horatio", cast[::-1], 1.0)
    assert statistics.median(m for _, m in macbeth) > statistics.median(m for _, m in horatio)
    assert all(max(12, floor + 8) <= most <= 60 for floor, most in macbeth + horatio)
    real = {len(t.split()) for t in real_speeches("macbeth", "Macbeth")}  # FakeModel: words
    assert {m for f, m in macbeth if 12 < m < 60 and m > f + 8} <= real
    assert {m for _, m in bounds("Macbeth", cast, 0.0)} == {60}
    floors = [f for f, _ in bounds("Macbeth", cast, 0.0)]
    assert floors == [f for f, _ in macbeth]  # the ceiling draws nothing of its own


def test_a_speech_cut_at_its_drawn_limit_keeps_whole_sentences():
    """The model would run on for 80 words; the turn's drawn limit cuts it, and with no
    run-on the speech keeps its whole sentences up to the limit."""
    text = " ".join(["Ay, my lord, I will go there now, and then"] * 8) + " we see it."
    text = text.replace("now, and then Ay", "now. Ay")
    cast, cut = ["Horatio", "Hamlet"], 0
    for seed in range(1, 11):
        model = FakeModel([text])
        said = agent(
            model, name="Horatio", cast=cast, min_tokens=2, length_ceiling=1.0, finish_tokens=0
        ).speak(opening(cast), SETTING, seed=seed)
        limit = model.samplings[0].max_tokens
        assert 12 <= limit <= 60 and said.source == "model"
        assert text.startswith(said.text) and ends_sentence(said.text)
        assert limit - 10 < len(said.text.split()) <= limit  # sentences are 10 words
        cut += limit < 60
    assert cut >= 5  # Horatio's real speeches are mostly short
