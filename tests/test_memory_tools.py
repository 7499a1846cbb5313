"""Tools in the graph, on the real path (MiniLM, a qdrant local store, LangGraph with its
SQLite checkpoint): before each character's turn the scene graph's `remember` step calls
the `relationship` and `recall` tools; the calls and results are checkpointed in the
turn, reach the agent's prompt, and show in `memory show --turn N` and the transcript."""

import json

import pytest
from test_memory_scene import index_slice
from typer.testing import CliRunner

from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.recall import lines_from_calls
from dramatis.agents.scene import Partial
from dramatis.agents.scene_store import SceneSpec, SceneStore
from dramatis.cli import app
from dramatis.core.settings import Settings
from dramatis.staging import build_scene, opening_from_play
from dramatis.transcript import write_transcript

CAST = ["Hamlet", "Horatio", "Marcellus"]


@pytest.fixture
def staged(home, embedding_cache, monkeypatch):
    monkeypatch.setenv("DRAMATIS_THREADS", "1")
    settings = Settings.load().ensure()
    index_slice(settings, embedding_cache)
    spec = SceneSpec(thread_id="tools", cast=CAST, plays=dict.fromkeys(CAST, "hamlet"),
                     setting="The platform.", source_scene="hamlet:1.4", model="fake", seed=4,
                     memory=True, agent={"max_tokens": 24})  # fmt: skip
    store = SceneStore(settings.scenes_db)
    store.save(spec)
    model = FakeModel(["The air bites shrewdly; it is very cold.", "Look, my lord, it comes!"],
                      chat=False)  # fmt: skip
    staged = build_scene(spec, store, settings, model=model)
    yield staged, settings
    staged.memory.store.close()


def test_the_memory_step_calls_the_tools_and_checkpoints_them(staged, tmp_path):
    staged, settings = staged
    scene, thread = staged.scene, "tools"
    opening = opening_from_play("hamlet:1.4")[1]
    said = [e for e in scene.run(thread, 2, opening) if not isinstance(e, Partial)]
    assert "remember" in scene.graph.get_graph().nodes
    for turn in said:
        tools = turn["tools"]
        assert [c["tool"] for c in tools][-1] == "recall" and tools[0]["tool"] == "relationship"
        recall = tools[-1]
        assert recall["args"]["k"] == 8 and " said: " in recall["result"]
        assert {c["args"]["other"] for c in tools[:-1]} <= set(CAST) - {turn["speaker"]}
        assert all(isinstance(c["result"], str) and c["result"] for c in tools)
    last = said[-1]
    agent = scene.agents[last["speaker"]]
    # The agent's prompt holds what the step returned, and nothing it did not.
    assert agent.recalled and set(agent.recalled) <= set(lines_from_calls(last["tools"]))
    saved = scene.turns(thread)  # from the checkpoint
    assert saved[-1]["tools"] == last["tools"] and "tools" not in saved[0]  # a play line

    shown = CliRunner().invoke(app, ["memory", "show", thread, "--turn", str(last["index"])])
    assert shown.exit_code == 0, shown.output
    assert "Memory step:" in shown.output and "recall(query=" in shown.output
    assert "relationship(other=" in shown.output
    data = json.loads(
        CliRunner().invoke(app, ["memory", "show", thread, "--turn", "0", "--json"]).output
    )
    assert data["tools"] == [] and data["source"] == "play"
    bad = CliRunner().invoke(app, ["memory", "show", thread, "--turn", "99"])
    assert bad.exit_code != 0 and "has turns 0-" in bad.output

    write_transcript(tmp_path, staged.spec, saved)
    lines = (tmp_path / "transcript.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[-1])["tools"] == last["tools"]


@pytest.mark.slow  # another scene build and a graph rebuild: ~20 s here under load
def test_a_retry_gets_a_memory_step_of_its_own(staged):
    staged, _ = staged
    scene, thread = staged.scene, "tools"
    first = [e for e in scene.run(thread, 1, opening_from_play("hamlet:1.4")[1])
             if not isinstance(e, Partial)][-1]  # fmt: skip
    (again,) = [e for e in scene.retry(thread) if not isinstance(e, Partial)]
    assert again["index"] == first["index"] and again["tools"][-1]["tool"] == "recall"
    assert scene.turns(thread)[-1]["tools"] == again["tools"]


def test_lines_from_calls():
    calls = [
        {"tool": "relationship", "result": "Polonius is dead. Hamlet and Osric have not met."},
        {"tool": "recall", "result": 'Hamlet said: "Farewell."\nHoratio remembers nothing.'},
    ]
    assert lines_from_calls(calls) == ("Polonius is dead.", 'Hamlet said: "Farewell."')
    assert lines_from_calls([]) == ()
