"""Training pairs: built like the agent's prompts, split by whole scenes, ordered by seed."""

from __future__ import annotations

import pytest

from dramatis.agents.character import AgentSettings, CharacterAgent
from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.prompts import fit_history
from dramatis.agents.turn import make_turn
from dramatis.personas import find_persona, load_play
from dramatis.training.curriculum import complexity, order_examples, stage_of
from dramatis.training.dataset import DataConfig, build_dataset, build_examples, one_line


def words(text: str) -> int:
    return len(text.split())


@pytest.fixture(scope="module")
def hamlet():
    persona = find_persona("Horatio")
    return load_play(persona.play), persona


def served_prompt(play, persona, example, fmt: str, hide=()) -> str:
    """The prompt `CharacterAgent` builds when it serves the same moment of the play:
    the scene's speeches so far, the cast on stage, the play's voice lore without
    that scene, and the card's sample lines without the scene's (or `hide`'s) lines."""
    from dramatis.memory.voice import PlayVoices

    scene = play.scene(example.scene_id)
    hidden = {one_line(s.text) for s in scene.speeches} | set(hide)
    persona = persona.model_copy(
        update={"sample_lines": [t for t in persona.sample_lines if one_line(t) not in hidden]}
    )
    before = [s for s in scene.speeches if s.index < example.index]
    turns = [
        make_turn(i, s.speaker, one_line(s.text), present=list(s.on_stage))
        for i, s in enumerate(before)
    ]
    target = next(s for s in scene.speeches if s.index == example.index)
    cast = list(target.on_stage)
    persons = [persona.card()] + [
        find_persona(n, play.key).card() for n in cast if n != persona.name
    ]
    agent = CharacterAgent(
        persona,
        FakeModel(),
        cast=cast,
        settings=AgentSettings(prompt_format=fmt),
        voice=PlayVoices({persona.name: play.key}, skip_scene=scene.id),
        persons=persons,
    )
    served, used = agent.prompt(turns, play.setting_line(scene))
    assert used == fmt
    return served


def test_page_pairs_are_the_prompts_the_stage_serves(hamlet):
    """A training page equals the page the agent builds for the same visible turns,
    cast and scene: training matches serving. Its real exchanges come from other
    scenes than the target's, and the page holds no out-of-world word."""
    from dramatis.agents.prompts import out_of_world_words

    play, persona = hamlet
    examples = build_examples(play, persona, DataConfig(), words)
    example = next(e for e in examples if e.scene_id == "1.1" and len(e.prompt) > 600)
    assert example.prompt_format == "page"
    assert example.prompt == served_prompt(play, persona, example, "page")
    assert example.prompt.endswith("\nHORATIO:")
    target = next(s for s in play.scene("1.1").speeches if s.index == example.index)
    assert example.target == one_line(target.text)
    assert example.target not in example.prompt
    assert not out_of_world_words(example.prompt)


def test_chat_pairs_are_the_prompts_chat_serves(hamlet):
    play, persona = hamlet
    model = FakeModel()
    data = build_dataset(play, persona, DataConfig(prompt_format="chat"), words, model.render_chat)
    example = next(e for e in data.train if e.scene_id == "1.1" and len(e.prompt) > 600)
    assert example.prompt_format == "chat"
    held = [one_line(s.text) for s in play.speeches() if s.scene_id in set(data.val_scenes)]
    assert example.prompt == served_prompt(play, persona, example, "chat", hide=held)
    assert "Lines Horatio has spoken before:" in example.prompt


def test_no_prompt_shows_its_target_or_a_validation_line(hamlet):
    """Voice samples and real exchanges leave out the target's scene and the
    validation scenes: no pair is shown its own answer, and validation stays unseen."""
    play, persona = hamlet
    data = build_dataset(play, persona, DataConfig(val_fraction=0.2), words)
    held = set(data.val_scenes)
    val_lines = [one_line(s.text) for s in play.speeches() if s.scene_id in held]
    val_lines = [t for t in val_lines if len(t.split()) >= 6]
    assert val_lines
    for example in data.train + data.val:
        scene_lines = [one_line(s.text) for s in play.scene(example.scene_id).speeches]
        shown = example.prompt.split("\n")[-2]  # the bracketed exchanges, before the heading
        assert shown.startswith(f"[{persona.name} remembers: ")
        assert example.target not in shown
        assert not [t for t in scene_lines if len(t.split()) >= 6 and t in shown]
    for example in data.train:
        assert not [t for t in val_lines if t in example.prompt]


def test_validation_scenes_never_train(hamlet):
    play, persona = hamlet
    data = build_dataset(play, persona, DataConfig(val_fraction=0.2), words)
    train_scenes = {e.scene_id for e in data.train}
    assert data.val and data.train
    assert not train_scenes & {e.scene_id for e in data.val}
    assert set(data.val_scenes) == {e.scene_id for e in data.val}
    stats = data.stats(words)
    assert stats["examples"] == len(data.train) + len(data.val)
    assert stats["mean_target_tokens"] > 0


def test_order_is_seeded_and_curriculum_goes_easy_to_hard(hamlet):
    play, persona = hamlet
    a = build_dataset(play, persona, DataConfig(seed=3), words)
    b = build_dataset(play, persona, DataConfig(seed=3), words)
    assert [e.index for e in a.train] == [e.index for e in b.train]
    staged = build_dataset(play, persona, DataConfig(curriculum=True, stages=3), words)
    scores = [complexity(e.target) for e in staged.train]
    third = len(scores) // 3
    assert max(scores[:third]) <= min(scores[-third:])


def test_window_keeps_newest_turns_within_budget():
    turns = [make_turn(i, "A", "w " * n) for i, n in enumerate([5, 3, 2])]
    assert [t["index"] for t in fit_history(turns, 14, words, block=1)] == [1, 2]  # 5+4 not
    assert [t["index"] for t in fit_history(turns, 1, words, block=1)] == [2]  # newest stays


def test_window_start_moves_in_blocks_so_prompts_share_a_prefix():
    turns = [make_turn(i, "A", "w") for i in range(20)]  # 5 tokens each
    starts = [fit_history(turns[:n], 25, words, block=4)[0]["index"] for n in range(5, 20)]
    assert set(starts) <= {0, 4, 8, 12, 16}  # only block boundaries
    assert starts == sorted(starts)
    assert all(len(fit_history(turns[:n], 25, words, block=4)) <= 5 for n in range(1, 20))


def test_complexity_and_stages():
    assert complexity("Ay, madam.") < complexity(
        "O, that this too too solid flesh would melt, thaw, and resolve itself into a dew!"
    )
    assert stage_of([5.0, 1.0, 3.0], 3) == [2, 0, 1]
    items = list(range(20))
    shuffled = order_examples(items, curriculum=False, seed=1)
    assert sorted(shuffled) == items and shuffled != items  # a permutation, not the input
    assert shuffled == order_examples(list(range(20)), curriculum=False, seed=1)  # seeded
    assert shuffled != order_examples(items, curriculum=False, seed=2)
