"""MemoryGraph on the real parsed Hamlet: seeding, the story horizon, deaths, JSON."""

import json
import re

import pytest

from dramatis.core.errors import DramatisError
from dramatis.memory.clock import Moment, horizon_of, known_at, turn_moment
from dramatis.memory.deaths import dying_words, find_deaths
from dramatis.memory.graph import Fact, MemoryGraph
from dramatis.memory.knowledge import knows_about, neighbours, prompt_facts, relation
from dramatis.memory.seed import described_relations, named_in, seed_graph
from dramatis.personas import load_play


@pytest.fixture(scope="module")
def hamlet():
    return load_play("hamlet")


@pytest.fixture(scope="module")
def whole(hamlet):
    return seed_graph(hamlet, "99.0")


def test_moments_order_play_scenes_and_staged_turns():
    assert Moment.parse("3.1+5") == Moment(3, 1, 5) and str(Moment(3, 1, 5)) == "3.1+5"
    assert known_at("1.2", "1.3") and not known_at("3.1", "1.3") and not known_at("1.3", "1.3")
    assert known_at("1.3+2", "1.3+4") and not known_at("1.3+5", "1.3+4")
    assert turn_moment("3.1", 0) == "3.1+1"
    assert horizon_of("hamlet:1.3", "hamlet") == "1.3"
    assert horizon_of("hamlet:1.3", "macbeth") == "99.0"
    with pytest.raises(DramatisError, match="ACT.SCENE"):
        Moment.parse("act three")


def test_deaths_from_stage_directions(hamlet):
    deaths = {(d.name, d.scene) for d in find_deaths(hamlet)}
    assert ("Polonius", "3.4") in deaths and ("Claudius", "5.2") in deaths
    assert {"Gertrude", "Laertes", "Hamlet"} <= {n for n, s in deaths if s == "5.2"}
    assert ("Banquo", "3.3") in {(d.name, d.scene) for d in find_deaths(load_play("macbeth"))}
    assert dying_words("O, I am slain!") and not dying_words("Good night, sweet prince.")


def test_persons_list_relations_and_names(hamlet, whole):
    names = {"polonius": "Polonius"}
    (fact,) = described_relations("Ophelia", "Daughter to Polonius", names)
    assert (fact.relation, fact.tail, fact.detail, fact.public) == (
        "kin",
        "Polonius",
        "daughter to",
        True,
    )
    assert named_in("Good my lord Polonius, and the rest", names) == ["Polonius"]
    assert whole.fact("Horatio", "friend", "Hamlet") is not None
    assert whole.fact("Reynaldo", "serves", "Polonius") is not None
    assert whole.fact("Hamlet", "kin", "Claudius").detail == "nephew to"  # "the present King"


def test_seeding_stops_at_the_horizon(hamlet):
    early = seed_graph(hamlet, "1.3")
    assert max(Moment.parse(f.since) for f in early.facts()) < Moment(1, 3)
    assert early.fact("Ophelia", "met", "Hamlet") is None  # they first share the stage in 3.1
    assert early.died("Polonius") is None
    # Ophelia has seen nothing before 1.3: she knows only the persons list about Polonius.
    assert [n.relation for n in neighbours(early, "Ophelia", "1.3")] == ["kin"]


def test_polonius_is_dead_after_3_4_to_those_who_know_it(whole):
    assert whole.died("Polonius") == "3.4"
    alive = re.compile(
        r"Polonius (is (?!dead)|has |serves )|(is \w+ to|has \w+ with|serves) Polonius"
    )
    knowing = 0
    for horizon in ("3.5", "4.1", "4.5", "5.1", "5.2+3"):
        for who in whole.characters():
            if whole.died(who) and known_at(whole.died(who), horizon):
                continue
            said = knows_about(whole, who, "Polonius", horizon) + prompt_facts(whole, who, horizon)
            said.append(relation(whole, who, "Polonius", horizon))
            text = " ".join(said)
            if not whole.knows_death(who, "Polonius", horizon):
                assert "Polonius is dead." not in text and "was son to Polonius" not in text
                continue
            knowing += 1
            assert not alive.search(text), f"{who} at {horizon}: {text}"
            if "Polonius" in text:
                assert "Polonius is dead." in text, f"{who} at {horizon}: {text}"
    assert knowing >= 10  # Hamlet and Gertrude from 3.5, Claudius from 4.1, Laertes from 4.6
    before = knows_about(whole, "Ophelia", "Polonius", "3.4")
    assert "Polonius is dead." not in before and "Ophelia is daughter to Polonius." in before
    # She hears it told in 4.5 (her grief there is the play's first sign she knows).
    assert "Ophelia is daughter to Polonius." in knows_about(whole, "Ophelia", "Polonius", "4.5")
    assert "Ophelia was daughter to Polonius." in knows_about(whole, "Ophelia", "Polonius", "4.6")
    assert (
        next(n for n in neighbours(whole, "Ophelia", "4.6") if n.name == "Polonius").until == "3.4"
    )


def test_witnesses_limit_what_a_character_knows(whole):
    # Reynaldo never saw Hamlet and Ophelia speak together; Ophelia did.
    assert "Hamlet has spoken with Ophelia." in knows_about(whole, "Ophelia", "Hamlet", "4.1")
    assert "Hamlet has spoken with Ophelia." not in knows_about(whole, "Reynaldo", "Hamlet", "4.1")


def test_json_round_trip_and_bad_files(tmp_path, whole):
    path = tmp_path / "g.json"
    whole.save(path)
    back = MemoryGraph.load(path)
    key = lambda f: (f.head, f.relation, f.tail)  # noqa: E731
    assert sorted(map(key, back.facts())) == sorted(map(key, whole.facts()))
    assert back.fact("Ophelia", "kin", "Polonius") == whole.fact("Ophelia", "kin", "Polonius")
    assert back.died("Polonius") == "3.4"
    path.write_text('{"graph": ', encoding="utf-8")
    with pytest.raises(DramatisError, match="unreadable memory graph"):
        MemoryGraph.load(path)
    path.write_text(json.dumps({"format": "other/9"}), encoding="utf-8")
    with pytest.raises(DramatisError, match="not a dramatis-memory-graph/1 file"):
        MemoryGraph.load(path)


def test_facts_merge_witnesses_and_keep_the_first_moment():
    def seen(order):
        g = MemoryGraph()
        for since, source, witnesses in order:
            g.add_fact(Fact("Hamlet", "addressed", "Ophelia", since, None, source, witnesses))
        f = g.fact("Hamlet", "addressed", "Ophelia")
        return f.since, f.source, f.count, f.witnesses, f.told

    sightings = [
        ("3.1", "hamlet 3.1", ["Hamlet", "Ophelia"]),
        ("3.2", "hamlet 3.2", ["Horatio", "Ophelia"]),
        ("1.3+2", "scene t, turn 1", ["Polonius"]),  # a staged turn before both
    ]
    # The first sighting's witnesses know it from then; the others from when they saw it.
    told = {"Horatio": "3.2", "Ophelia": "3.1"}
    first = ("1.3+2", "scene t, turn 1", 3, ["Polonius"], told)
    assert seen(sightings) == first  # the earliest came last
    assert seen(sightings[::-1]) == first  # and first
    g = MemoryGraph()
    for since, source, witnesses in sightings:
        g.add_fact(Fact("Hamlet", "addressed", "Ophelia", since, None, source, witnesses))
    fact = g.fact("Hamlet", "addressed", "Ophelia")
    assert not fact.known_to("Horatio", "3.2") and fact.known_to("Horatio", "3.3")
    assert fact.known_to("Hamlet", "1.3+2")  # the one who did it knows it
    assert not Fact("Bernardo", "mentioned", "Horatio", "1.1", witnesses=["Francisco"]).known_to(
        "Horatio", "5.1"
    )  # being named teaches nothing
    later = [("3.2", "a", []), ("3.10", "b", [])]  # by story time, not as text
    assert seen(later)[:2] == seen(later[::-1])[:2] == ("3.2", "a")
    g = MemoryGraph()
    with pytest.raises(ValueError, match="node kind"):
        g.add_node("x", "weapon")
