"""Long scenes stay bounded: checkpoints are pruned to the newest few, the prompt stays
within its history budget, and a pruned scene still resumes exactly."""

from __future__ import annotations

import sqlite3

import pytest
from conftest import StubPersona

from dramatis.agents.character import CharacterAgent
from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.policies import RoundRobin
from dramatis.agents.scene import Partial, SceneGraph
from dramatis.agents.scene_store import PRUNE_EVERY, SceneStore

CAST = ["Hamlet", "Ophelia", "Horatio"]


def scene_on(store: SceneStore, model: FakeModel) -> SceneGraph:
    agents = {n: CharacterAgent(StubPersona(n), model, cast=CAST) for n in CAST}
    return SceneGraph(
        agents, RoundRobin(), setting="A hall.", seed=5, checkpointer=store.checkpointer
    )


def count_checkpoints(path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM checkpoints").fetchone()[0]


def said(turns):
    return [(t["index"], t["speaker"], t["text"]) for t in turns]


@pytest.mark.slow  # 2-4 min: hundreds of turns, and the fake model's word salad seldom ends a sentence, so speeches run on or are drawn again
def test_pruned_scene_keeps_few_checkpoints_and_resumes_exactly(tmp_path):
    db = tmp_path / "s.sqlite"
    model = FakeModel()
    pruned = SceneStore(db, keep=6)
    list(scene_on(pruned, model).run("t", 60))
    assert count_checkpoints(db) <= 6 + PRUNE_EVERY  # 180+ without pruning
    pruned.close()
    again = SceneStore(db, keep=6)  # a new process, in effect
    scene = scene_on(again, FakeModel())
    list(scene.run("t", 5))
    turns = scene.turns("t")
    assert [t["index"] for t in turns] == list(range(65))
    full = SceneStore(tmp_path / "full.sqlite", keep=0)  # the same scene, never pruned
    reference = scene_on(full, FakeModel())
    list(reference.run("t", 65))
    assert said(turns) == said(reference.turns("t"))
    assert count_checkpoints(tmp_path / "full.sqlite") > 3 * 65
    assert len(list(scene.graph.get_state_history(scene.config("t")))) >= 2  # some undo left


@pytest.mark.slow  # 2-4 min: hundreds of turns, and the fake model's word salad seldom ends a sentence, so speeches run on or are drawn again
def test_prompt_stays_within_the_history_budget_over_a_long_scene(tmp_path):
    model = FakeModel()
    scene = scene_on(SceneStore(tmp_path / "s.sqlite"), model)
    sizes = []
    for event in scene.run("t", 200):
        if not isinstance(event, Partial):
            sizes.append(model.count_tokens(model.prompts[-1]))
    budget = CharacterAgent(StubPersona("x"), model, cast=CAST).settings.history_tokens
    assert max(sizes[100:]) < budget + 200  # history budget plus the fixed card and setting
    assert max(sizes[150:]) <= max(sizes[:150]) + 20  # no growth with the scene's length
