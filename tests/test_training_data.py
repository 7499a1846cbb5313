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


def test_pairs_use_the_agents_prompt(hamlet):
    """Rendered with one model, a training prompt equals the prompt the agent builds
    for the same visible turns: training matches serving."""
    play, persona = hamlet
    cfg = DataConfig(history_tokens=AgentSettings().history_tokens)
    examples = build_examples(play, persona, cfg, words)
    example = next(e for e in examples if e.scene_id == "1.1" and len(e.messages[1].content) > 300)
    scene = play.scene("1.1")
    before = [s for s in scene.speeches if s.index < example.index and persona.name in s.on_stage]
    turns = [
        make_turn(i, s.speaker, one_line(s.text), present=list(s.on_stage))
        for i, s in enumerate(before)
    ]
    target = next(s for s in scene.speeches if s.index == example.index)
    model = FakeModel()
    agent = CharacterAgent(persona, model, cast=list(target.on_stage))
    setting = f"{play.title}, act 1, scene 1. {scene.setting}".strip()
    served, fmt = agent.prompt(turns, setting)
    assert fmt == "chat"
    assert model.render_chat(list(example.messages)) == served
    assert example.target == one_line(target.text)


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
