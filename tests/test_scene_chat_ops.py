"""Scene operations a chat needs, on a fake model with real LangGraph + SQLite:
human turns, presence, rewind (branch), retry with another seed, stop mid-speech."""

import random
import threading
import time

import pytest
from conftest import StubPersona

from dramatis.agents.character import CharacterAgent
from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.policies import AddressedName, reply_count
from dramatis.agents.scene import Partial, SceneGraph, turn_seed
from dramatis.agents.scene_store import SceneStore
from dramatis.agents.turn import make_turn
from dramatis.core.errors import DramatisError

CAST = ["Hamlet", "Horatio", "Ophelia"]


class SlowModel(FakeModel):
    """A fake model that takes `delay` seconds per token, to stop it midway."""

    def __init__(self, delay: float = 0.05) -> None:
        super().__init__()
        self.delay = delay

    def stream(self, prompt, sampling):
        for piece in super().stream(prompt, sampling):
            time.sleep(self.delay)
            yield piece


def make_scene(tmp_path, model=None):
    store = SceneStore(tmp_path / "s.sqlite")
    model = model or FakeModel()
    agents = {n: CharacterAgent(StubPersona(n), model, cast=[*CAST, "You"]) for n in CAST}
    return SceneGraph(
        agents, AddressedName(), setting="A hall.", seed=5, checkpointer=store.checkpointer,
        human="You",
    )  # fmt: skip


def spoken(events):
    return [e for e in events if not isinstance(e, Partial)]


def test_human_turn_is_checkpointed_and_the_named_character_answers(tmp_path):
    scene = make_scene(tmp_path)
    said = scene.say("t", "You", "Ophelia, are you well?")
    assert said == {**said, "index": 0, "source": "human", "present": [*CAST, "You"]}
    (reply,) = spoken(scene.run("t", 1))
    assert reply["speaker"] == "Ophelia" and reply["index"] == 1
    assert [t["source"] for t in scene.turns("t")] == ["human", "model"]


def test_dismissed_characters_do_not_speak_and_presence_is_checkpointed(tmp_path):
    scene = make_scene(tmp_path)
    scene.set_present("t", ["Hamlet", "You"])
    turns = spoken(scene.run("t", 3))
    assert {t["speaker"] for t in turns} == {"Hamlet"}
    assert turns[0]["present"] == ["Hamlet", "You"]
    scene.set_present("t", ["You"])
    with pytest.raises(DramatisError, match="nobody is on stage"):
        list(scene.run("t", 1))


def test_rewind_branches_and_keeps_the_old_turns_in_history(tmp_path):
    scene = make_scene(tmp_path)
    scene.say("t", "You", "Speak, Hamlet.")
    first = spoken(scene.run("t", 2))
    taken = scene.rewind("t", 1)
    assert taken == first and len(scene.turns("t")) == 1
    history = [
        len(s.values.get("turns", [])) for s in scene.graph.get_state_history(scene.config("t"))
    ]
    assert 3 in history  # the dropped branch is still there
    again = spoken(scene.run("t", 1))
    assert again[0]["index"] == 1 and len(scene.turns("t")) == 2
    with pytest.raises(DramatisError, match="cannot go back"):
        scene.rewind("t", 5)


def test_retry_says_the_last_turn_again_with_another_seed(tmp_path):
    scene = make_scene(tmp_path)
    scene.say("t", "You", "Horatio, what news?")
    (before,) = spoken(scene.run("t", 1))
    (after,) = spoken(scene.retry("t"))
    assert after["speaker"] == before["speaker"] == "Horatio"
    assert after["index"] == before["index"] and after["text"] != before["text"]
    assert scene.turns("t")[-1] == after and len(scene.turns("t")) == 2
    (third,) = spoken(scene.retry("t"))
    assert third["text"] not in (before["text"], after["text"])
    assert turn_seed(7, 3, variant=2) == 2007003


def test_stop_keeps_what_was_said_and_ends_the_run(tmp_path):
    scene = make_scene(tmp_path, SlowModel(0.05))
    threading.Timer(0.2, scene.stop).start()
    events = list(scene.run("t", 5))
    (turn,) = spoken(events)
    assert turn["source"] == "stopped" and 0 < len(turn["text"].split()) < 8
    partials = [e.text for e in events if isinstance(e, Partial)]
    assert partials[-1] == turn["text"]
    assert scene.graph.get_state(scene.config("t")).next == ()  # nothing pending
    (after,) = spoken(scene.run("t", 1))  # the next run starts cleanly
    assert after["source"] == "model" and after["index"] == 1


def test_a_person_naming_someone_is_answered_by_them():
    policy = AddressedName()
    turns = [make_turn(0, "You", "Horatio, stay.", source="human")]
    assert policy.weights(CAST, turns) == [0.0, 1.0, 0.0]
    turns = [make_turn(0, "Hamlet", "Horatio, stay.")]
    assert policy.weights(CAST, turns) == [0.0, 6.0, 1.0]


def test_reply_count_follows_the_group():
    rng = random.Random(1)
    named = make_turn(0, "You", "Ophelia, speak.", source="human")
    anyone = make_turn(0, "You", "Well met, all.", source="human")
    assert reply_count(named, CAST, rng) == 1
    assert reply_count(anyone, ["Hamlet"], rng) == 1
    assert reply_count(anyone, [], rng) == 0
    counts = {reply_count(anyone, CAST, random.Random(s)) for s in range(40)}
    assert counts == {1, 2, 3}
