"""Deaths only dialogue reports (memory/news.py): the rule finds real offstage deaths and
not the false ones it used to (Lepidus, who is imprisoned, and killers named beside a
word of death), on the real plays."""

import pytest

from dramatis.memory.deaths import find_deaths
from dramatis.memory.news import says_dead
from dramatis.memory.seed import name_index, seed_graph
from dramatis.personas import load_play


def reported(key):
    from dramatis.memory.news import reported_deaths

    play = load_play(key)
    return {d.name: d.scene for d in reported_deaths(play, find_deaths(play), name_index(play))}


@pytest.mark.parametrize(
    ("key", "alive"),
    [
        ("antony_and_cleopatra", "Mark Aemilius Lepidus"),  # "Fool Lepidus!" ... "murder'd"
        ("julius_caesar", "Mark Aemilius Lepidus"),  # "Lepidus Have put to death" (a killer)
        ("tragedy_of_titus_andronicus", "Chiron"),  # "Chiron and Demetrius ... that murdered"
        ("tragedy_of_titus_andronicus", "Lavinia"),  # "thy brother Bassianus dead"
        ("henry_iv_part_2", "Sir John Falstaff"),  # "Falstaff shall die of a sweat"
        ("troilus_and_cressida", "Achilles"),  # "Hector's slain, and by Achilles"
        ("john", "English Herald"),  # "the English lords"
        ("winters_tale", "Old Shepherd"),
    ],
)
def test_the_living_and_the_killers_are_not_reported_dead(key, alive):
    assert alive not in reported(key)


def test_real_offstage_deaths_are_still_found():
    assert reported("hamlet") == {"Ophelia": "4.7", "Rosencrantz": "5.2", "Guildenstern": "5.2"}
    assert {"Portia", "Cicero"} <= set(reported("julius_caesar"))
    assert {"Mercutio", "Lady Montague"} <= set(reported("romeo_and_juliet"))
    assert reported("lear").get("Duke of Cornwall") == "4.2"


def test_lepidus_is_not_dead_in_the_graph_of_antony_and_cleopatra():
    graph = seed_graph(load_play("antony_and_cleopatra"), "99.0")
    assert graph.died("Mark Aemilius Lepidus") is None
    assert graph.died("Domitius Enobarbus") == "4.9"  # a death the directions show stays


def test_what_says_dead():
    assert says_dead("Alas, Polonius is dead.", [(6, 14)])
    assert says_dead("Salisbury's death, For none would strike", [(0, 11)])
    assert not says_dead("Polonius. Then be dead to mirth", [(0, 8)])  # another clause
    assert not says_dead("Come quickly, Montague, or I am dead.", [(14, 22)])
    assert not says_dead("Lepidus Have put to death an hundred Senators.", [(0, 7)])
    assert not says_dead("Chiron Were they that murdered our brother", [(0, 6)])
    assert says_dead("Roderigo is kill'd.", [(0, 8)])
