"""The scene graph on a fake model: real LangGraph, real SQLite checkpoints."""

import json
import subprocess
import sys

from conftest import StubPersona

from dramatis.agents.character import AgentSettings, CharacterAgent
from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.policies import RoundRobin
from dramatis.agents.scene import Partial, SceneGraph
from dramatis.agents.scene_store import SceneSpec, SceneStore
from dramatis.agents.turn import make_turn

CAST = ["Hamlet", "Ophelia"]


def make_scene(store, model, policy=None, seed=3):
    agents = {n: CharacterAgent(StubPersona(n), model, cast=CAST) for n in CAST}
    return SceneGraph(
        agents,
        policy or RoundRobin(),
        setting="A hall.",
        seed=seed,
        checkpointer=store.checkpointer,
    )


def test_runs_turns_in_order_and_checkpoints(tmp_path):
    store = SceneStore(tmp_path / "s.sqlite")
    scene = make_scene(store, FakeModel(["To be.", "My lord?", "Or not.", "Good night."]))
    events = list(scene.run("t1", 4))
    turns = [e for e in events if not isinstance(e, Partial)]
    assert [t["speaker"] for t in turns] == ["Hamlet", "Ophelia", "Hamlet", "Ophelia"]
    assert [t["text"] for t in turns] == ["To be.", "My lord?", "Or not.", "Good night."]
    assert [t["index"] for t in turns] == [0, 1, 2, 3]
    assert any(isinstance(e, Partial) and e.text == "To" for e in events)  # it streams
    assert scene.turns("t1") == turns


def test_impersonation_is_cut_and_empty_replies_retry(tmp_path):
    store = SceneStore(tmp_path / "s.sqlite")
    model = FakeModel(  # raw completions: only the agent's guard can cut them
        ["Get thee to a nunnery.\nOPHELIA: O, help him!", "HAMLET: Go to.", "", "Rest."],
        stops=False,
    )
    scene = make_scene(store, model)
    turns = [e for e in scene.run("t", 2) if not isinstance(e, Partial)]
    assert turns[0]["text"] == "Get thee to a nunnery."
    # Ophelia's first reply only spoke as Hamlet: cleaned to nothing, retried, then "Rest."
    assert turns[1] == {**turns[1], "speaker": "Ophelia", "text": "Rest.", "source": "model"}
    assert len(model.prompts) == 4  # Hamlet once; Ophelia three times (two empty replies)


def test_all_attempts_empty_falls_back_to_a_marked_play_line(tmp_path):
    store = SceneStore(tmp_path / "s.sqlite")
    scene = make_scene(store, FakeModel([""] * 4))  # every attempt: 1 + 3 retries
    (turn,) = [e for e in scene.run("t", 1) if not isinstance(e, Partial)]
    assert turn["source"] == "fallback" and turn["text"] == "Words, words, words."


def test_opening_lines_seed_a_new_scene_once(tmp_path):
    store = SceneStore(tmp_path / "s.sqlite")
    scene = make_scene(store, FakeModel(["Ay.", "No."]))
    opening = [
        make_turn(0, "Claudius", "How fares our cousin Hamlet?", source="play", present=CAST)
    ]
    list(scene.run("t", 1, opening))
    list(scene.run("t", 1, opening))  # a second run must not add the opening again
    turns = scene.turns("t")
    assert [t["source"] for t in turns] == ["play", "model", "model"]
    assert turns[1]["speaker"] == "Hamlet"  # round robin after a speaker outside the cast


AUTO = AgentSettings(prompt_format="auto")  # the chat template where the model has one


def test_agent_sees_only_what_it_witnessed():
    model = FakeModel()
    agent = CharacterAgent(StubPersona("Macbeth"), model, cast=["Macbeth", "Hamlet"], settings=AUTO)
    turns = [
        make_turn(0, "Claudius", "Secret of Denmark.", present=["Claudius", "Hamlet"]),
        make_turn(1, "Hamlet", "Hail, Scot.", present=["Hamlet", "Macbeth"]),
    ]
    prompt, fmt = agent.prompt(turns, "A heath.")
    assert fmt == "chat"
    assert "Hail, Scot." in prompt and "Secret of Denmark" not in prompt


def test_script_format_for_models_without_a_chat_template():
    agent = CharacterAgent(StubPersona("Hamlet"), FakeModel(chat=False), cast=CAST, settings=AUTO)
    prompt, fmt = agent.prompt([make_turn(0, "Ophelia", "My lord?", present=CAST)], "A hall.")
    assert fmt == "script"
    assert prompt.endswith("OPHELIA: My lord?\nHAMLET:")


def test_history_window_keeps_the_newest_turns():
    agent = CharacterAgent(StubPersona("Hamlet"), FakeModel(), cast=CAST)
    assert agent.settings.history_tokens == 900
    # Every 5th of 100 turns happens while Hamlet is off stage: he sees 80. Each costs
    # 62 words (the fake counts words) + 4 = 66 tokens, so his newest 13 fit 900 (the
    # 14th would make 924); the start moves in blocks of 8, from seen turn 67 up to 72.
    turns = [
        make_turn(i, "Ophelia", f"line {i} " + "word " * 60, present=CAST if i % 5 else ["Ophelia"])
        for i in range(100)
    ]
    seen = [t["index"] for t in turns if t["index"] % 5]
    window = [t["index"] for t in agent.visible(turns)]
    assert window == seen[72:] == [91, 92, 93, 94, 96, 97, 98, 99]


RESUME_CHILD = """
import sys, json
sys.path.insert(0, {tests!r})
from test_scene_graph import make_scene
from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.policies import AddressedName
from dramatis.agents.scene_store import SceneStore
store = SceneStore(__import__("pathlib").Path({db!r}))
scene = make_scene(store, FakeModel(), AddressedName(), seed=11)
list(scene.run("thread", int(sys.argv[1])))
print(json.dumps(scene.turns("thread")))
"""


def test_resume_in_a_new_process_matches_an_uninterrupted_run(tmp_path):
    tests = str(__import__("pathlib").Path(__file__).parent)

    def child(db, n):
        code = RESUME_CHILD.format(tests=tests, db=str(db))
        out = subprocess.run([sys.executable, "-c", code, str(n)], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    first = child(tmp_path / "a.sqlite", 3)
    resumed = child(tmp_path / "a.sqlite", 3)
    straight = child(tmp_path / "b.sqlite", 6)
    assert resumed[:3] == first
    strip = [{k: v for k, v in t.items() if k != "seconds"} for t in resumed]
    assert strip == [{k: v for k, v in t.items() if k != "seconds"} for t in straight]
    assert [t["index"] for t in resumed] == list(range(6))


def test_spec_round_trip_and_unknown_thread(tmp_path):
    import pytest

    from dramatis.core.errors import DramatisError

    store = SceneStore(tmp_path / "s.sqlite")
    spec = SceneSpec(thread_id="hamlet-ophelia-1", cast=CAST, setting="A hall.", seed=5)
    store.save(spec)
    assert store.load("hamlet-ophelia-1") == spec
    with pytest.raises(DramatisError, match="hamlet-ophelia-1"):
        store.load("hamlet-ophelia-2")


class Interrupting:
    """An observer that raises like Ctrl-C while the turn `at` is being observed."""

    def __init__(self, at: int) -> None:
        self.at, self.seen = at, []

    def observe(self, turn):
        self.seen.append(turn["index"])
        if turn["index"] == self.at and self.seen.count(self.at) == 1:
            raise KeyboardInterrupt


def test_run_cut_off_mid_step_resumes_without_losing_or_redoing_turns(tmp_path):
    store = SceneStore(tmp_path / "s.sqlite")
    observer = Interrupting(at=2)
    agents = {n: CharacterAgent(StubPersona(n), FakeModel(), cast=CAST) for n in CAST}
    scene = SceneGraph(
        agents,
        RoundRobin(),
        setting="A hall.",
        seed=4,
        checkpointer=store.checkpointer,
        observers=(observer,),
    )
    got = []
    try:
        for event in scene.run("t", 6):
            if not isinstance(event, Partial):
                got.append(event)
    except KeyboardInterrupt:
        pass
    saved = scene.turns("t")
    assert [t["index"] for t in saved] == [0, 1, 2] and saved == got
    list(scene.run("t", 2))
    after = scene.turns("t")
    assert after[:3] == saved  # turn 2 kept as spoken, not generated again
    assert [t["index"] for t in after] == [0, 1, 2, 3, 4]
    assert observer.seen == [0, 1, 2, 2, 3, 4]  # the cut-off observation is redone


def test_consumer_interrupt_right_after_a_turn_keeps_that_turn(tmp_path):
    store = SceneStore(tmp_path / "s.sqlite")
    scene = make_scene(store, FakeModel())
    shown: list[dict] = []
    try:
        for event in scene.run("t", 6):
            if not isinstance(event, Partial):
                shown.append(event)
                if event["index"] == 2:
                    raise KeyboardInterrupt  # the user presses Ctrl-C as turn 2 prints
    except KeyboardInterrupt:
        pass
    saved = scene.turns("t")
    assert [t["index"] for t in shown] == [0, 1, 2]
    assert saved == shown  # the interrupted turn is saved, as it was shown
    list(scene.run("t", 1))
    after = scene.turns("t")
    assert after[: len(saved)] == saved
    assert [t["index"] for t in after] == list(range(len(saved) + 1))
