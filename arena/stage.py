"""Stage one suite job: the same agents, policy and checkpointed scene graph as
`dramatis stage`, built from the lower rooms (the arena never imports the app shell).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

from dramatis.agents.catalog import resolve_model
from dramatis.agents.character import CharacterAgent
from dramatis.agents.model import LanguageModel
from dramatis.agents.policies import make_policy
from dramatis.agents.scene import SceneGraph
from dramatis.agents.scene_store import SceneSpec, SceneStore
from dramatis.agents.turn import Turn, make_turn
from dramatis.arena.suite import Job
from dramatis.core.settings import Settings
from dramatis.personas import Persona, find_persona, load_play

OPENING_SPEECHES = 4  # as `dramatis stage --scene`: the play's first speeches seed the scene

ModelFactory = Callable[[Job, Settings], LanguageModel]


def opening(source: str) -> tuple[str, list[Turn]]:
    """(setting, opening turns) of a scene of a play, "hamlet:3.1"."""
    play_key, scene_id = source.split(":", 1)
    play = load_play(play_key)
    scene = play.scene(scene_id)
    setting = f"{play.title}, act {scene.act}, scene {scene.number}. {scene.setting}".strip()
    turns = [
        make_turn(i, s.speaker, s.text, source="play", present=list(s.on_stage))
        for i, s in enumerate(scene.speeches[:OPENING_SPEECHES])
    ]
    return setting, turns


def job_spec(job: Job, personas: list[Persona]) -> tuple[SceneSpec, list[Turn]]:
    """The scene spec (as `dramatis stage` saves it) and opening turns of a job."""
    names = [p.name for p in personas]
    setting = job.scene.setting or f"A hall in a castle, late at night. {', '.join(names)} meet."
    turns: list[Turn] = []
    if job.scene.source:
        play_setting, turns = opening(job.scene.source)
        setting = job.scene.setting or play_setting
    c = job.config
    spec = SceneSpec(
        thread_id=job.id,
        cast=names,
        plays={p.name: p.play for p in personas},
        setting=setting,
        source_scene=job.scene.source,
        model=c.model,
        seed=job.seed,
        policy=c.policy,
        agent={
            "max_tokens": c.max_tokens,
            "temperature": c.temperature,
            "prompt_format": c.prompt_format,
        },
        adapters=c.adapters,
    )
    return spec, turns


def llama_model(job: Job, settings: Settings) -> LanguageModel:
    """The job's GGUF model on llama.cpp (the default factory)."""
    from dramatis.agents.llama_backend import LlamaCppModel

    path = resolve_model(job.config.model, settings.cache_dir)
    return LlamaCppModel(
        path,
        n_ctx=settings.n_ctx,
        n_threads=settings.n_threads,
        seed=job.seed,
        cache_mb=settings.cache_mb,
    )


def run_job(
    job: Job, folder: Path, settings: Settings, make_model: ModelFactory = llama_model
) -> dict:
    """Stage the job's scene into `folder` (transcript.jsonl, scene.json); a summary row."""
    start = time.perf_counter()
    personas = [find_persona(n) for n in job.scene.cast]
    names = [p.name for p in personas]
    spec, seed_turns = job_spec(job, personas)
    model = make_model(job, settings)
    chosen: dict[str, str | None] = {}
    if job.config.adapters:
        from dramatis.training.serving import mount_adapters

        path = Path(
            getattr(model, "path", "") or resolve_model(job.config.model, settings.cache_dir)
        )
        chosen, _ = mount_adapters(model, personas, settings, path)
    agents = {
        p.name: CharacterAgent(
            p, model, cast=names, settings=spec.agent, adapter=chosen.get(p.name)
        )
        for p in personas
    }
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "scene.sqlite"
    db.unlink(missing_ok=True)  # an unfinished earlier attempt is redone from the start
    store = SceneStore(db)
    store.save(spec)
    scene = SceneGraph(
        agents,
        make_policy(spec.policy),
        setting=spec.setting,
        seed=spec.seed,
        checkpointer=store.checkpointer,
    )
    generated = list(scene.run(spec.thread_id, job.turns, seed_turns))
    turns = scene.turns(spec.thread_id)
    store.close()
    write_files(folder, spec.model_dump(mode="json") | {"config": job.config.name}, turns)
    made = [t for t in generated if isinstance(t, dict)]
    return {
        "job": job.id,
        "config": job.config.name,
        "turns": len(made),
        "tokens": sum(t["tokens"] for t in made),
        "generation_seconds": sum(t["seconds"] for t in made),
        "seconds": round(time.perf_counter() - start, 3),
    }


def write_files(folder: Path, spec: dict, turns: list) -> None:
    """transcript.jsonl and scene.json, as `dramatis stage` writes them (atomically)."""
    for name, text in (
        ("transcript.jsonl", "".join(json.dumps(t, ensure_ascii=False) + "\n" for t in turns)),
        ("scene.json", json.dumps(spec, indent=2, ensure_ascii=False) + "\n"),
    ):
        tmp = folder / (name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, folder / name)
