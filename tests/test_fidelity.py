"""Fidelity: the page prompt, voice lore, retries against narration, loops and card
recital, best-of-n with the style critic, and banned words on the real model."""

from __future__ import annotations

from collections import Counter

import pytest

from dramatis.agents.character import AgentSettings, CharacterAgent
from dramatis.agents.critic import StyleCritic, held_out_scenes
from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.guard import narrates
from dramatis.agents.model import Sampling
from dramatis.agents.prompts import out_of_world_words
from dramatis.agents.turn import make_turn
from dramatis.arena.in_world import out_of_world
from dramatis.memory.voice import PlayVoices, VoiceIndex, exchanges_of
from dramatis.personas import find_persona, load_play

CAST = ["Hamlet", "Ophelia"]
SETTING = "Hamlet, act 3, scene 1. A room in the Castle."


def agent(model, name="Hamlet", cast=CAST, **settings) -> CharacterAgent:
    personas = [find_persona(n) for n in cast]
    return CharacterAgent(
        find_persona(name),
        model,
        cast=cast,
        settings=AgentSettings(**{"prompt_format": "page", **settings}),
        voice=PlayVoices(skip_scene="3.1"),
        persons=[p.card() for p in personas],
    )


def opening() -> list:
    return [
        make_turn(
            0, "Ophelia", "Good my lord, how does your honour for this many a day?", present=CAST
        )
    ]


def test_page_prompt_is_a_page_of_the_play_with_no_out_of_world_word():
    prompt, fmt = agent(FakeModel()).prompt(opening(), SETTING)
    assert fmt == "page"
    assert out_of_world_words(prompt) == []
    for word in ("Shakespeare", "character", "speech", "play", "say next", "Reply"):
        assert word.lower() not in prompt.lower()
    assert prompt.startswith("HAMLET, son to the former King of Denmark")
    assert "OPHELIA, daughter to Polonius." in prompt
    assert "\nOPHELIA: Good my lord, how does your honour for this many a day?\n[" in prompt
    # real exchanges of Hamlet's come after the scene, as one bracketed line before his
    # heading (agents/prompts.py), never from the staged scene itself
    shown = prompt.split("\n")[-2]
    assert shown.startswith("[Hamlet remembers: ") and shown.count(" HAMLET: ") >= 1
    assert "I humbly thank you" not in shown


def test_voice_index_ranks_the_closest_exchange_first():
    hamlet = exchanges_of(load_play("hamlet").speeches(), "Hamlet")
    index = VoiceIndex(hamlet)
    best = index.search("What do you read, my lord?", 1)[0]
    assert best.reply == "Words, words, words." and best.cue_speaker == "Polonius"
    assert all(3 <= len(e.reply.split()) <= 50 for e in hamlet)
    skipped = PlayVoices(skip_scene="2.2").examples("Hamlet", "What do you read, my lord?", 5)
    assert all(reply != "Words, words, words." for _, _, reply in skipped)


@pytest.mark.parametrize(
    "bad",
    [
        "In Shakespeare's Hamlet, the speech is a continuation of Ophelia's earlier declaration.",
        "What does Hamlet say next?",
        "Hamlet, son to the former King of Denmark, and nephew to the present King.",
    ],
)
def test_narration_and_card_recital_are_retried(bad):
    model = FakeModel([bad, "I humbly thank you; well, well, well."], chat=False)
    said = agent(model).speak(opening(), SETTING, seed=1)
    assert said.text == "I humbly thank you; well, well, well." and said.attempts == 2


def test_i_am_sir_loop_is_retried_and_ends_in_a_real_line():
    turns = [*opening(), make_turn(1, "Hamlet", "I am, sir.", present=CAST)]
    model = FakeModel(["I am, sir.", "I am, sir!", "I am sir"], chat=False)
    said = agent(model, retries=2).speak(turns, SETTING, seed=1)
    assert said.source == "fallback" and said.text != "I am, sir."


def test_heading_of_a_character_outside_the_cast_ends_the_turn_while_streaming():
    model = FakeModel(["Nay, I know not.\nGUILDENSTERN: My lord, the king is come."], chat=False)
    said = agent(model, name="Ophelia").speak(opening(), SETTING, seed=1)
    assert said.text == "Nay, I know not."


def test_best_of_n_keeps_the_candidate_the_critic_prefers():
    """Whichever of three candidates a critic ranks highest is kept, wherever it was drawn;
    the critic is asked about the speaker and every candidate, once."""
    texts = ["It is the hour of the night.", "O, thou art mad?", "Ay, and thy lord, sir?"]

    class Prefers:
        def __init__(self, liked: str) -> None:
            self.liked, self.asked = liked, []

        def rank(self, name, candidates):
            self.asked.append((name, list(candidates)))
            return [1.0 if t == self.liked else -float(i) for i, t in enumerate(candidates)]

    for liked in texts:
        who = agent(FakeModel(list(texts), chat=False), best_of=3)
        who.critic = Prefers(liked)
        said = who.speak(opening(), SETTING, seed=1)
        assert (said.text, said.attempts) == (liked, 3)
        assert who.critic.asked == [("Hamlet", texts)]


def test_best_of_n_moves_on_from_a_scene_that_settles_on_one_idea():
    """With `move_on`, a candidate that only turns over the last speeches' topic words
    loses to one that says something new, whatever the critic prefers; without it, the
    critic alone chooses. Both candidates are drawn either way (no extra cost)."""
    from dramatis.agents.guard import dwells

    cast = ["Hamlet", "Ophelia"]
    scene = opening() + [
        make_turn(1, "Hamlet", "The ghost walks; my father is dead.", present=cast),
        make_turn(2, "Ophelia", "Dead, my lord? Then the ghost walks for your father.", present=cast),
    ]  # fmt: skip
    stale, fresh = "My father's ghost walks, for he is dead.", "Get thee to a nunnery, go."
    earlier = [t["text"] for t in scene]
    assert dwells(stale, earlier) and not dwells(fresh, earlier)

    class PrefersStale:
        def rank(self, name, texts):
            return [1.0 if t == stale else 0.0 for t in texts]

    for move_on, expected in ((False, stale), (True, fresh)):
        who = agent(FakeModel([stale, fresh], chat=False), best_of=2, move_on=move_on)
        who.critic = PrefersStale()
        said = who.speak(scene, SETTING, seed=1)
        assert (said.text, said.attempts) == (expected, 2), move_on


def test_critic_lines_are_the_judge_held_out_scenes_only():
    from dramatis.agents.critic import features
    from dramatis.arena.attribution import split_scenes

    scenes = {"A": [("p", "1.1"), ("p", "1.2"), ("p", "1.3"), ("p", "2.1")], "B": [("p", "1.3")]}
    assert held_out_scenes({"A": scenes["A"]}) == {("p", "1.3")}  # the 3rd of every 4
    # B, with fewer scenes, chooses first: 1.3 is its 1st scene, kept for training, so A
    # cannot hold it out either (no scene gives lines to both sides).
    assert held_out_scenes(scenes) == set()
    # The critic learns exactly the lines the arena's judge tests on (arena/attribution.py).
    cast = ["Hamlet", "Ophelia", "Polonius"]
    own = {n: [s for s in load_play("hamlet").speeches() if s.speaker == n] for n in cast}
    split = split_scenes({n: [("hamlet", s.scene_id) for s in own[n]] for n in cast})
    assert held_out_scenes({n: [("hamlet", s.scene_id) for s in own[n]] for n in cast}) == {
        scene for scene, side in split.items() if side == "test"
    }
    critic = StyleCritic.for_personas([find_persona(f"hamlet:{n}") for n in cast])
    for name in cast:
        judged = [s.text for s in own[name] if split[("hamlet", s.scene_id)] == "test"]
        assert judged and critic.counts[name] == sum(map(features, judged), Counter())


@pytest.mark.model
def test_page_format_on_the_real_model_speaks_in_the_scene(smollm2):
    who = agent(smollm2, max_tokens=24)
    said = who.speak(opening(), SETTING, seed=3)
    assert said.source == "model" and said.prompt_format == "page"
    assert out_of_world_words(said.text) == [] and out_of_world(said.text) is None, said.text
    assert not narrates(said.text, CAST), said.text
    assert "OPHELIA" not in said.text and "HAMLET" not in said.text


@pytest.mark.model
def test_banned_words_never_come_out(smollm2):
    prompt = "The most famous English playwright is William"
    greedy = Sampling(max_tokens=4, temperature=0.0, seed=1)
    assert "Shakespeare" in smollm2.generate(prompt, greedy).text  # the model's first choice
    banned = Sampling(max_tokens=4, temperature=0.0, seed=1, banned=("shakespeare",))
    assert "Shakespeare" not in smollm2.generate(prompt, banned).text
    # With min_tokens the ban goes through our own logits processor, and still holds.
    both = Sampling(max_tokens=4, temperature=0.0, seed=1, banned=("shakespeare",), min_tokens=3)
    out = smollm2.generate(prompt, both)
    assert "Shakespeare" not in out.text and "\n" not in out.text and out.tokens == 4


@pytest.mark.model
@pytest.mark.slow
def test_min_tokens_holds_the_speech_open_past_its_first_line_break(smollm2):
    breaks = smollm2.breaking_tokens()
    llm = smollm2.llama
    assert llm.token_eos() in breaks and llm.tokenize(b"\n", add_bos=False)[0] in breaks
    prompt = "A list of three fruits, one per line:\napple\npear\n"  # it breaks at once
    for seed in (1, 2, 3):
        plain = Sampling(max_tokens=24, temperature=0.8, seed=seed, stop=("\n",))
        held = Sampling(max_tokens=24, temperature=0.8, seed=seed, stop=("\n",), min_tokens=12)
        short, long = smollm2.generate(prompt, plain), smollm2.generate(prompt, held)
        assert short.tokens <= 4  # a word, then the line break stops it
        assert long.tokens >= 12 and "\n" not in long.text


def test_min_tokens_reaches_the_sampling_and_never_exceeds_max_tokens():
    model = FakeModel(["Get thee to a nunnery.", "Go, go."])
    agent(model, max_tokens=8, min_tokens=16, length_share=0.0).speak(opening(), SETTING, seed=1)
    agent(model, length_share=0.0).speak(opening(), SETTING, seed=1)  # no floor from real lengths
    assert [s.min_tokens for s in model.samplings] == [8, 0]


def test_large_model_assembly_checks_size_and_header(tmp_path, monkeypatch):
    from dramatis.agents import large_model
    from dramatis.core.errors import DramatisError

    parts = []
    for n in range(1, 4):
        part = tmp_path / "data" / f"part{n:02d}.bin"
        part.parent.mkdir(exist_ok=True)
        part.write_bytes((b"GGUF" if n == 1 else b"") + bytes([n]) * 4)
        parts.append(part)
    monkeypatch.setattr(large_model, "PARTS", 3)
    monkeypatch.setattr(large_model, "part_file", lambda n: parts[n - 1])
    monkeypatch.setattr(large_model, "SIZE", 16)
    made = large_model.assemble(tmp_path / "cache" / "m.gguf")
    assert made.read_bytes() == b"GGUF" + b"\x01" * 4 + b"\x02" * 4 + b"\x03" * 4
    monkeypatch.setattr(large_model, "SIZE", 17)
    with pytest.raises(DramatisError, match="not 17"):
        large_model.check_gguf(made)
    with pytest.raises(DramatisError, match="make large-model"):
        large_model.large_model_path(tmp_path / "empty")


def test_stage_set_options_are_typed_and_checked(home):
    from typer.testing import CliRunner

    from dramatis.cli import agent_options, app

    assert agent_options(["best_of=3", "ban_out_of_world=true", "presence_penalty=0.3"]) == {
        "best_of": 3,
        "ban_out_of_world": True,
        "presence_penalty": 0.3,
    }
    bad = CliRunner().invoke(app, ["stage", "--cast", "Hamlet", "--set", "best_of=many"])
    assert bad.exit_code == 2 and "best_of takes a whole number" in bad.output


def test_a_turn_that_recites_the_setting_is_drawn_again():
    # Seen in the fidelity grid: a whole turn that was the page's setting line.
    model = FakeModel(["A room in the Castle.", "Get thee to a nunnery."])
    said = agent(model).speak(opening(), SETTING, seed=1)
    assert said.text == "Get thee to a nunnery." and said.attempts == 2


def test_the_word_ban_is_asked_only_of_a_backend_that_supports_it():
    # A server backend has no word biases: its scenes speak without them (and a direct
    # ask is a one-line error, tests/test_backend_contract.py); llama.cpp gets the ban.
    server_like = FakeModel(["Get thee to a nunnery."], supports=("min_tokens", "presence_penalty"))
    agent(server_like, repeat_penalty=1.0).speak(opening(), SETTING, seed=1)
    assert server_like.samplings[0].banned == ()
    full = FakeModel(["Get thee to a nunnery."])
    agent(full).speak(opening(), SETTING, seed=1)
    assert "shakespeare" in full.samplings[0].banned
