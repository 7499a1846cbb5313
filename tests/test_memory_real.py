"""Memory on the real path: MiniLM embeddings, qdrant local storage, LangGraph scenes.

Lore is a slice of Hamlet (short speeches from every act) so the default run stays fast;
the whole play is indexed by the slow test and by benchmarks/memory_retrieval.py.
"""

import os
import subprocess
import sys
import textwrap

import pytest
from conftest import hamlet_lore_slice

from dramatis.memory.clock import Moment
from dramatis.memory.embed import Embedder
from dramatis.memory.lore import index_play, speech_text
from dramatis.memory.retrieval import Horizon, Retriever, Weights
from dramatis.memory.scene_memory import Role, SceneMemory
from dramatis.memory.seed import seed_graph
from dramatis.memory.store import VectorStore
from dramatis.memory.tools import memory_tools
from dramatis.personas import load_play


def lore_slice(play):
    return hamlet_lore_slice()[1]


@pytest.fixture(scope="module")
def hamlet():
    return load_play("hamlet")


@pytest.fixture(scope="module")
def embeddings(embedding_cache):
    return embedding_cache


@pytest.fixture(scope="module")
def embedder(embeddings):
    return Embedder(embeddings, threads=1)  # one thread: tests run beside others


@pytest.fixture(scope="module")
def lore(tmp_path_factory, hamlet, embedder):
    store = VectorStore(str(tmp_path_factory.mktemp("lore") / "store"))
    report = index_play(store, embedder, hamlet, speeches=lore_slice(hamlet))
    assert report.speeches == len(lore_slice(hamlet)) and not report.skipped and not report.encoded
    yield store
    store.close()


def turn(i, speaker, text, present):
    return {"index": i, "speaker": speaker, "text": text, "present": present, "source": "model"}


def test_nothing_after_the_horizon_and_only_what_was_witnessed(lore, embedder, hamlet):
    retriever = Retriever(lore, embedder, Weights(floor=-1.0))  # the filters alone
    # The most tempting queries: the very words of speeches after every horizon below.
    later = [speech_text(s) for s in lore_slice(hamlet) if s.act >= 4][::3]
    vectors = embedder.encode(later)
    cases = [("Horatio", "1.3"), ("Hamlet", "2.2"), ("Gertrude", "3.4"), ("Claudius", "4.1")]
    returned = 0
    for who, scene in cases:
        at = Horizon("hamlet", scene)
        for query in vectors:
            for m in retriever.recall(who, query, at, k=8):
                assert m.payload["clock"] < Moment.parse(scene).clock, (who, scene, m)
                assert who in m.payload["on_stage"], (who, m)
                returned += 1
    assert len(later) >= 10 and returned > 8 * len(later)  # the filters leave plenty to return
    # Ophelia first comes on stage in 1.3: at 1.3 she remembers nothing of the play.
    assert retriever.recall("Ophelia", "my father", Horizon("hamlet", "1.3")) == []
    assert retriever.recall("Ophelia", "my father", Horizon("hamlet", "3.1"))
    # The similarity floor: a cue like nothing she heard recalls nothing at all.
    floored = Retriever(lore, embedder)
    assert floored.recall("Ophelia", "quantum chromodynamics", Horizon("hamlet", "3.1")) == []


def test_absent_characters_cannot_recall_a_turn(lore, embedder, hamlet, tmp_path):
    roles = {n: Role("hamlet", "3.1") for n in ("Hamlet", "Ophelia", "Horatio")}
    memory = SceneMemory(lore, embedder, seed_graph(hamlet, "3.1"), thread="w1", roles=roles,
                         graph_path=tmp_path / "g.json")  # fmt: skip
    secret = "The ghost walks upon the battlements at midnight, Horatio."
    memory.sync([turn(0, "Hamlet", secret, ["Hamlet", "Horatio"]),
                 turn(1, "Ophelia", "My lord, I have remembrances of yours.", ["Ophelia", "Hamlet"])])  # fmt: skip
    memory.observe(turn(0, "Hamlet", secret, ["Hamlet", "Horatio"]))  # a repeat is ignored
    assert lore.count("episodic") == 2
    for who in ("Horatio", "Hamlet"):
        assert memory.memories(who, "ghost on the battlements", 3)[0].text == secret
    assert all(m.text != secret for m in memory.memories("Ophelia", "ghost on the battlements", 10))
    lines = memory.recall("Horatio", "ghost on the battlements", 3)
    assert f'Hamlet said: "{secret}"' in lines
    met = memory.graph.fact("Ophelia", "met", "Hamlet")  # first on stage together in 3.1
    assert (met.since, met.witnesses, met.source) == (
        "3.1+2",
        ["Hamlet", "Ophelia"],
        "scene w1, turn 1",
    )
    assert memory.graph.fact("Hamlet", "addressed", "Horatio").count > 1  # play + this scene


def test_tools_answer_as_the_character(lore, embedder, hamlet):
    # At 4.6: in 4.5 she heard her father's death told (knowing it takes seeing or hearing)
    roles = {"Ophelia": Role("hamlet", "4.6"), "Laertes": Role("hamlet", "4.6")}
    memory = SceneMemory(lore, embedder, seed_graph(hamlet, "4.6"), thread="tools", roles=roles)
    recall, relationship = memory_tools(memory, "Ophelia")
    assert recall.name == "recall" and relationship.name == "relationship"
    said = recall.invoke({"query": "my lord", "k": 2}).splitlines()
    assert len(said) == 2 and all(" said: " in line for line in said)
    about = relationship.invoke({"other": "Polonius"})
    assert about.startswith("Polonius is dead.") and "Ophelia was daughter to Polonius." in about


@pytest.mark.parametrize("where", [":memory:", "local"])
def test_local_and_in_memory_modes_run_the_same_code(where, hamlet, embedder, tmp_path):
    store = VectorStore(str(tmp_path / "s") if where == "local" else where)
    report = index_play(store, embedder, hamlet, speeches=lore_slice(hamlet))
    assert not report.encoded  # from the session's embedding cache
    again = index_play(store, embedder, hamlet, speeches=lore_slice(hamlet))
    assert again.skipped and again.seconds < 1.0
    # five of the slice's lines, whatever their similarity and however many of one scene
    unfloored = Weights(floor=-1.0, per_scene=0)
    got = Retriever(store, embedder, unfloored).recall(
        "Hamlet", "Alas, poor Yorick", Horizon("hamlet", "5.2"), 5
    )
    store.use_mirror = False  # the Qdrant query path a server gets
    served = Retriever(store, embedder, unfloored).recall(
        "Hamlet", "Alas, poor Yorick", Horizon("hamlet", "5.2"), 5
    )
    assert [m.text for m in got] == [m.text for m in served] and len(got) == 5
    store.close()


PROCESS = """
import sys
from pathlib import Path
from dramatis.memory.attach import open_scene_memory
from dramatis.memory.embed import Embedder
from dramatis.memory.lore import index_play
from dramatis.memory.settings import MemorySettings
from dramatis.memory.store import VectorStore
from dramatis.personas import load_play

home, embeddings = Path(sys.argv[1]), Path(sys.argv[2])
settings = MemorySettings.under(home)
store, embedder = VectorStore(settings.store), Embedder(embeddings)
play = load_play("hamlet")
index_play(store, embedder, play, speeches=[s for s in play.speeches() if len(s.text.split()) <= 14][::4])
memory = open_scene_memory(settings, "restart", [("Hamlet", "hamlet"), ("Horatio", "hamlet")],
                           "hamlet:1.5", store=store, embedder=embedder)
memory.observe({"index": 0, "speaker": "Horatio", "text": "These are but wild and whirling words, my lord.",
                "present": ["Hamlet", "Horatio"], "source": "model"})
store.close()
"""


@pytest.mark.slow
def test_memories_survive_a_process_restart(tmp_path, embeddings, embedder):
    home = tmp_path / "home"
    script = textwrap.dedent(PROCESS)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "DRAMATIS_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", script, str(home), str(embeddings)],
                          capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    from dramatis.memory.attach import open_scene_memory
    from dramatis.memory.settings import MemorySettings

    settings = MemorySettings.under(home)
    cast = [("Hamlet", "hamlet"), ("Horatio", "hamlet")]
    memory = open_scene_memory(settings, "restart", cast, "hamlet:1.5", embedder=embedder)
    assert memory.seen == {0}
    (best,) = memory.memories("Hamlet", "whirling words", 1)
    assert best.text.startswith("These are but wild and whirling words") and best.when == "1.5+1"
    assert memory.graph.fact("Horatio", "addressed", "Hamlet") is not None  # the saved graph
    assert all(
        Moment.parse(m.when) < Moment(1, 5)
        for m in memory.memories("Hamlet", "ghost", 8)
        if m.kind == "lore"
    )
    memory.store.close()


def test_a_cue_is_encoded_as_a_speech_is_and_keeps_its_end(embedder):
    short = "Alas, poor Yorick! I knew him, Horatio: a fellow of infinite jest."
    cue = embedder.encode_query(short)
    assert cue.shape == (384,) and float(cue @ embedder.encode([short])[0]) > 0.999
    assert embedder.encode_query(short) is cue  # asked again (a retry): not encoded again
    # a cue past QUERY_TOKENS word pieces is encoded from its end, the speech just heard
    heard = "Get thee to a nunnery: why wouldst thou be a breeder of sinners?"
    long = " ".join(["Good my lord, how does your honour for this many a day?"] * 20) + heard
    tail = embedder.encode([" ".join(long.split()[-45:])])[0]  # about QUERY_TOKENS (64)
    head = embedder.encode([" ".join(long.split()[:45])])[0]
    got = embedder.encode_query(long)
    assert float(got @ tail) > 0.95 and float(got @ tail) > float(got @ head) + 0.05
