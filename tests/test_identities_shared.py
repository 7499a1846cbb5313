"""Personas, memory and the arena read one identity table: a 1 Henry IV cast typed as a
reader would ("Hal", "Falstaff", "Hotspur") is the same three people in each."""

from __future__ import annotations

from dramatis.arena.context import Context
from dramatis.memory.seed import horizon_after, seed_graph
from dramatis.personas import find_persona, load_play

TYPED = ["henry_iv_part_1:Hal", "henry_iv_part_1:Falstaff", "henry_iv_part_1:Hotspur"]
PEOPLE = ("Prince Henry", "Sir John Falstaff", "Hotspur")


def test_arena_context_takes_reader_names_and_finds_the_real_lines():
    context = Context.build(TYPED)
    assert context.cast == PEOPLE
    hal = context.real_speeches("Prince Henry")
    assert len(hal) == 168 and any("Thou art so fat-witted" in s.text for s in hal)
    assert not any(s.speaker == "Prince John of Lancaster" and "fat-witted" in s.text
                   for s in context.play_of("Prince Henry").speeches())  # fmt: skip
    assert "Henry" not in context.names()  # the old split name is no speaker


def test_personas_memory_and_arena_agree_on_each_name():
    graph = seed_graph(load_play("henry_iv_part_1"), horizon_after("2.4"))
    arena = Context.build(TYPED)
    for typed, person in zip(TYPED, PEOPLE, strict=True):
        assert find_persona(typed).name == person
        assert person in graph.g
        assert arena.personas[person].n_speeches == find_persona(typed).n_speeches
