"""News that travels, on the real parsed Hamlet: a death is known to those who saw it,
then to those who hear it told; naming is not knowing; presence is per line; a death
only dialogue reports (Ophelia's) is an event too."""

import pytest

from dramatis.memory.deaths import find_deaths
from dramatis.memory.graph import Fact, MemoryGraph
from dramatis.memory.knowledge import knows_about, prompt_facts, relation
from dramatis.memory.lore import lore_payload
from dramatis.memory.news import heard_by, reported_deaths, tellings
from dramatis.memory.report import knowledge_report
from dramatis.memory.seed import name_index, named_in, seed_graph
from dramatis.memory.store import VectorStore
from dramatis.personas import load_play


@pytest.fixture(scope="module")
def hamlet():
    return load_play("hamlet")


@pytest.fixture(scope="module")
def whole(hamlet):
    return seed_graph(hamlet, "99.0")


def said_about(graph, who, horizon):
    """Everything the graph's queries put in `who`'s prompt about Polonius."""
    lines = knows_about(graph, who, "Polonius", horizon) + prompt_facts(graph, who, horizon, 12)
    return " ".join([*lines, relation(graph, who, "Polonius", horizon)])


def test_laertes_learns_of_his_father_s_death_in_4_5(whole):
    assert "Polonius is dead." not in said_about(whole, "Laertes", "4.1")  # he is in France
    assert "Polonius is dead." not in said_about(whole, "Laertes", "4.5")  # 4.5 not yet over
    assert "Polonius is dead." in said_about(whole, "Laertes", "4.6")  # "Where is my father?"
    fact = whole.fact("Polonius", "died", "event:death of Polonius")
    assert fact.told["Laertes"] == "4.5" and "Laertes" not in fact.witnesses


def test_hamlet_knows_from_3_4_since_he_killed_him(whole):
    assert not whole.knows_death("Hamlet", "Polonius", "3.4")  # 3.4 itself is still to come
    for horizon in ("3.5", "4.1", "4.1+3", "5.1"):
        assert "Polonius is dead." in said_about(whole, "Hamlet", horizon), horizon
    fact = whole.fact("Polonius", "died", "event:death of Polonius")
    assert {"Hamlet", "Gertrude"} <= set(fact.witnesses) and not fact.public
    assert "Ghost of Hamlet's Father" not in fact.witnesses  # enters after the death


def test_staged_at_4_1_hamlet_s_memory_shows_the_death_and_laertes_s_does_not(hamlet):
    graph = seed_graph(hamlet, "4.1")
    store = VectorStore(":memory:")
    try:
        reports = {who: knowledge_report(graph, store, "t41", who, "4.1") for who in
                   ("Hamlet", "Laertes")}  # fmt: skip
    finally:
        store.close()
    hamlet_knows = " ".join(" ".join(v) for v in reports["Hamlet"]["knows"].values())
    laertes_knows = " ".join(" ".join(v) for v in reports["Laertes"]["knows"].values())
    assert "Polonius is dead." in hamlet_knows and reports["Hamlet"]["dead"] == ["Polonius"]
    assert reports["Laertes"]["dead"] == []
    assert "Polonius" in laertes_knows and "Polonius is dead." not in laertes_knows


def test_horatio_does_not_know_what_was_said_before_he_entered(hamlet, whole):
    before = [s for s in hamlet.scene("1.1").speeches if "Horatio" not in s.on_stage]
    assert len(before) >= 10 and any("Horatio" in s.text for s in before)  # he is named
    for s in before:
        assert "Horatio" not in lore_payload(hamlet, s, "b")["on_stage"]
    named = whole.fact("Bernardo", "mentioned", "Horatio")  # "If you do meet Horatio ..."
    assert named is not None and not named.known_to("Horatio", "5.2")
    assert named.known_to("Francisco", "1.2")
    assert "Bernardo has spoken of Horatio." not in " ".join(
        knows_about(whole, "Horatio", "Bernardo", "5.2")
    )


def test_an_exit_mid_speech_misses_the_rest(hamlet):
    # Claudius, 4.5: "Follow her close; give her good watch, I pray you." Horatio goes.
    speech = next(s for s in hamlet.scene("4.5").speeches if s.text.startswith("Follow her close"))
    assert ("Horatio", 1) in speech.left and len(speech.lines) > 10
    assert "Horatio" in speech.on_stage and "Horatio" not in heard_by(speech)
    assert "Horatio" not in lore_payload(hamlet, speech, "b")["on_stage"]


def test_ophelia_s_drowning_is_told_in_4_7(hamlet, whole):
    names = name_index(hamlet)
    reported = reported_deaths(hamlet, find_deaths(hamlet), names)
    ophelia = next(d for d in reported if d.name == "Ophelia")
    assert ophelia.scene == "4.7" and "told by Gertrude" in ophelia.source
    assert {"Laertes", "Claudius", "Gertrude"} <= set(ophelia.witnesses)
    assert whole.died("Ophelia") == "4.7"
    assert whole.knows_death("Laertes", "Ophelia", "4.8")
    assert not whole.knows_death("Laertes", "Ophelia", "4.7")
    assert not whole.knows_death("Horatio", "Ophelia", "4.8")  # he was not there
    # Stage-direction deaths are not reported twice, and living people are not buried.
    assert not {d.name for d in reported} & {"Polonius", "Hamlet", "Horatio", "Claudius"}
    told = [t for t in tellings(hamlet, find_deaths(hamlet), names) if t.dead == "Polonius"]
    assert told[0].scene == "4.1" and "Laertes" in next(t for t in told if t.scene == "4.5").hearers


def test_prologue_in_a_speech_is_not_the_prologue(hamlet):
    names = name_index(hamlet)
    line = "As harbingers preceding still the fates And prologue to the omen coming on"
    assert named_in(line, names) == []
    assert named_in("Good my lord Polonius", names) == ["Polonius"]
    assert "father" not in names and "hamlet's" not in names  # not names of the Ghost
    graph = seed_graph(hamlet, "1.2")
    assert graph.fact("Horatio", "mentioned", "Prologue") is None


def test_told_survives_json_and_a_bad_told_is_refused(tmp_path, whole):
    path = tmp_path / "g.json"
    whole.save(path)
    back = MemoryGraph.load(path)
    assert back.fact("Polonius", "died", "event:death of Polonius").told["Laertes"] == "4.5"
    bad = MemoryGraph()
    bad.add_fact(Fact("A", "met", "B", "1.1", told={"C": "later"}))
    bad.save(path)
    with pytest.raises(Exception, match="damaged memory graph"):
        MemoryGraph.load(path)
