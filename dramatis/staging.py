"""Wiring: settings + personas + model -> a runnable scene, new or resumed."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from dramatis.agents.catalog import resolve_model
from dramatis.agents.character import AgentSettings, CharacterAgent
from dramatis.agents.model import LanguageModel
from dramatis.agents.policies import make_policy
from dramatis.agents.scene import SceneGraph
from dramatis.agents.scene_store import SceneSpec, SceneStore
from dramatis.agents.turn import Turn, make_turn
from dramatis.core.errors import DramatisError
from dramatis.core.settings import Settings
from dramatis.personas import find_persona, load_play

OPENING_SPEECHES = 4  # lines from the play that seed a `--scene` run


def parse_cast(text: str) -> list[str]:
    """Cast names from a comma list, deduplicated, order kept.

    parse_cast("Hamlet, Ophelia,hamlet") -> ["Hamlet", "Ophelia"]
    """
    names: list[str] = []
    for raw in text.split(","):
        name = " ".join(raw.split())
        if name and name.lower() not in {n.lower() for n in names}:
            names.append(name)
    if not names:
        raise DramatisError("--cast is empty: give names like --cast 'Hamlet,Ophelia'")
    return names


def new_thread_id(cast: list[str]) -> str:
    """A fresh id naming the cast: ["Hamlet", "Lady Macbeth"] -> "hamlet-ladymacbeth-1a2b3c4d"."""
    slug = "-".join(re.sub(r"[^a-z]+", "", n.lower()) for n in cast)[:48]
    return f"{slug}-{uuid.uuid4().hex[:8]}"


def opening_from_play(scene_ref: str) -> tuple[str, list[Turn]]:
    """(setting, opening turns) for "hamlet:3.1"."""
    if ":" not in scene_ref:
        raise DramatisError(f"--scene {scene_ref!r}: write PLAY:ACT.SCENE, e.g. hamlet:3.1")
    play_key, scene_id = scene_ref.split(":", 1)
    play = load_play(play_key)
    scene = play.scene(scene_id)
    setting = f"{play.title}, act {scene.act}, scene {scene.number}. {scene.setting}".strip()
    turns = [
        make_turn(i, s.speaker, s.text, source="play", present=list(s.on_stage))
        for i, s in enumerate(scene.speeches[:OPENING_SPEECHES])
    ]
    return setting, turns


def default_setting(cast: list[str]) -> str:
    return f"A hall in a castle, late at night. {', '.join(cast)} meet."


@dataclass
class Staged:
    spec: SceneSpec
    scene: SceneGraph
    model: LanguageModel
    notes: list[str] = field(default_factory=list)  # e.g. which adapter each character uses
    memory: Any = None  # the scene's dramatis.memory SceneMemory, when spec.memory


def build_scene(
    spec: SceneSpec,
    store: SceneStore,
    settings: Settings,
    model: LanguageModel | None = None,
) -> Staged:
    """Agents for every cast member over one shared model, in a checkpointed graph.

    With `spec.adapters` each character speaks with its active LoRA adapter (the
    dramatis.training registry), loaded once on the shared model; characters without
    one use the base."""
    personas = [find_persona(name) for name in spec.cast]
    if model is None:
        from dramatis.agents.llama_backend import LlamaCppModel

        path = resolve_model(spec.model, settings.cache_dir)
        model = LlamaCppModel(
            path,
            n_ctx=settings.n_ctx,
            n_threads=settings.n_threads,
            seed=spec.seed,
            cache_mb=settings.cache_mb,
        )
    chosen: dict[str, str | None] = {}
    notes: list[str] = []
    if spec.adapters:
        from dramatis.training.serving import mount_adapters

        model_path = getattr(model, "path", None) or resolve_model(spec.model, settings.cache_dir)
        chosen, notes = mount_adapters(model, personas, settings, model_path)
    agent_settings = AgentSettings(**spec.agent)
    names = [p.name for p in personas]
    memory = scene_memory(spec, personas, settings) if spec.memory else None
    agents = {
        p.name: CharacterAgent(
            p,
            model,
            cast=names,
            settings=agent_settings,
            adapter=chosen.get(p.name),
            memory=memory,
        )
        for p in personas
    }
    scene = SceneGraph(
        agents,
        make_policy(spec.policy),
        setting=spec.setting,
        seed=spec.seed,
        checkpointer=store.checkpointer,
        observers=(memory,) if memory else (),
    )
    if memory is not None:  # a resumed scene's turns, or the play's opening lines
        said = scene.turns(spec.thread_id)
        memory.sync(said or (opening_from_play(spec.source_scene)[1] if spec.source_scene else []))
    return Staged(spec, scene, model, notes, memory)


def scene_memory(spec: SceneSpec, personas: list, settings: Settings) -> Any:
    """The scene's memory (dramatis.memory): the same store and graph on every resume."""
    from dramatis.memory.attach import open_scene_memory
    from dramatis.memory.settings import MemorySettings

    cast = [(p.name, p.play) for p in personas]
    return open_scene_memory(
        MemorySettings.under(settings.home), spec.thread_id, cast, spec.source_scene
    )
