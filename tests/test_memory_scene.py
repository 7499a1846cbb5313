"""Memory wired into scenes: the agent's prompt, a real staged scene with --memory on the
bundled model, resume, and the `dramatis memory` commands."""

import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import StubPersona, hamlet_lore_slice
from typer.testing import CliRunner

from dramatis.agents.character import AgentSettings, CharacterAgent
from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.scene import Partial
from dramatis.agents.scene_store import SceneSpec, SceneStore
from dramatis.agents.turn import make_turn
from dramatis.cli import app
from dramatis.core.settings import Settings
from dramatis.memory.embed import Embedder
from dramatis.memory.lore import index_play
from dramatis.memory.settings import MemorySettings
from dramatis.memory.store import VectorStore
from dramatis.staging import build_scene, opening_from_play

OUT_OF_WORLD = ("memory", "memories", "retriev", "recall", "model", "assistant", "AI ")


class Remembers:
    """A MemorySource with fixed lines, recording what it was asked."""

    def __init__(self, lines):
        self.lines, self.asked = lines, []

    def recall(self, character, cue, k):
        self.asked.append((character, cue, k))
        return self.lines[:k]


@pytest.mark.parametrize("chat", [True, False])
def test_memories_enter_the_prompt_in_world_within_budget(chat):
    lines = ["Polonius is dead.", 'Laertes said: "Farewell, Ophelia."', "x " * 200]
    memory = Remembers(lines)
    agent = CharacterAgent(
        StubPersona("Ophelia"), FakeModel(chat=chat), cast=["Ophelia", "Hamlet"],
        settings=AgentSettings(memory_tokens=30), memory=memory,
    )  # fmt: skip
    turns = [make_turn(0, "Hamlet", "Get thee to a nunnery.", present=["Hamlet", "Ophelia"])]
    prompt, _ = agent.prompt(turns, "A room in the castle.")
    line = '[Ophelia remembers: Polonius is dead. Laertes said: "Farewell, Ophelia."]'
    assert line in prompt and "x x x" not in prompt  # the third line is over the budget
    assert memory.asked == [("Ophelia", "Get thee to a nunnery.", 8)]  # twice memory_k
    assert not any(word.lower() in line.lower() for word in OUT_OF_WORLD)
    plain = CharacterAgent(StubPersona("Ophelia"), FakeModel(chat=chat), cast=["Ophelia"])
    assert "remembers" not in plain.prompt(turns, "A room.")[0]


def index_slice(settings: Settings, cache) -> MemorySettings:
    ms = MemorySettings.under(settings.home)
    shutil.copytree(cache, ms.embeddings, dirs_exist_ok=True)
    store, (play, short) = VectorStore(ms.store), hamlet_lore_slice()
    assert not index_play(store, Embedder(ms.embeddings, threads=1), play, speeches=short).encoded
    store.close()
    return ms


def staged_turns(staged, thread, n, opening=None):
    return [e for e in staged.scene.run(thread, n, opening) if not isinstance(e, Partial)]


@pytest.mark.model
def test_scene_with_memory_remembers_and_resumes(home, smollm2, embedding_cache, monkeypatch):
    monkeypatch.setenv("DRAMATIS_THREADS", "1")
    settings = Settings.load().ensure()
    ms = index_slice(settings, embedding_cache)
    spec = SceneSpec(thread_id="mem-1", cast=["Hamlet", "Ophelia"], setting="A room.",
                     source_scene="hamlet:3.1", seed=5, agent={"max_tokens": 12}, memory=True)  # fmt: skip
    store = SceneStore(settings.scenes_db)
    store.save(spec)
    staged = build_scene(spec, store, settings, model=smollm2)
    assert staged.memory.seen == {0, 1, 2, 3}  # the play's opening lines, before any turn
    said = staged_turns(staged, "mem-1", 2, opening_from_play("hamlet:3.1")[1])
    assert staged.memory.seen == {0, 1, 2, 3, 4, 5}
    speaker = said[-1]["speaker"]
    prompt, _ = staged.scene.agents[speaker].prompt(staged.scene.turns("mem-1"), spec.setting)
    assert f"[{speaker} remembers: " in prompt
    staged.memory.store.close()  # the process ends: a resume opens everything anew

    again = build_scene(store.load("mem-1"), store, settings, model=smollm2)
    assert again.memory.seen == {0, 1, 2, 3, 4, 5}
    assert again.memory.graph.fact(said[0]["speaker"], "met", "Claudius") is not None
    first = said[0]
    recalled = again.memory.memories(first["speaker"], first["text"], 3)
    assert any(m.text == " ".join(first["text"].split()) and m.when == "3.1+5" for m in recalled)
    staged_turns(again, "mem-1", 1)
    assert again.memory.seen == set(range(7))
    again.memory.store.close()

    shown = CliRunner().invoke(app, ["memory", "show", "mem-1", "--character", "ophelia", "--json"])
    assert shown.exit_code == 0, shown.output
    report = json.loads(shown.output)
    assert report["horizon"] == "3.1+7" and report["recent"][0]["turn"] == 6
    assert {"name": "Polonius", "relation": "kin", "detail": "daughter to", "since": "0.0",
            "until": None, "count": 1, "direction": "to"} in report["neighbours"]  # fmt: skip
    assert ms.graph_path("mem-1").exists()


def test_memory_commands_give_one_line_errors(home):
    runner = CliRunner()
    missing = runner.invoke(app, ["memory", "show", "nope", "--character", "Hamlet"])
    assert missing.exit_code == 2 and "no memory for scene 'nope'" in missing.output
    bad = runner.invoke(app, ["memory", "index", "hamlett"])
    assert bad.exit_code == 2 and "error:" in bad.output and "Traceback" not in bad.output


@pytest.mark.slow
def test_cli_index_is_instant_the_second_time_and_stage_uses_it(tmp_path):
    env = {**os.environ, "DRAMATIS_HOME": str(tmp_path / "home"), "DRAMATIS_THREADS": "1",
           "HF_HUB_OFFLINE": "1"}  # fmt: skip

    def dramatis(*args):
        cmd = [sys.executable, "-m", "dramatis", *args]
        return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path)

    first = dramatis("memory", "index", "hamlet")
    assert first.returncode == 0 and "1137 speeches" in first.stdout and "encoded" in first.stdout
    second = dramatis("memory", "index", "hamlet")
    assert "already indexed" in second.stdout
    assert float(second.stdout.rsplit(",", 1)[1].split()[0]) < 1.0
    run = dramatis("stage", "--cast", "Ophelia,Laertes", "--scene", "hamlet:1.3", "--turns", "2",
                   "--max-tokens", "16", "--memory")  # fmt: skip
    assert run.returncode == 0, run.stderr
    tid = run.stdout.split("thread id")[1].split()[0]
    more = dramatis("resume", tid, "--turns", "1")
    assert more.returncode == 0, more.stderr
    shown = dramatis("memory", "show", tid, "--character", "Ophelia")
    assert "Relations:" in shown.stdout and "Recent memories:" in shown.stdout
