"""Stage one suite job through the staging layer (`dramatis.staging.build_scene`), the
same path as `dramatis stage`, so a suite scores exactly what users get.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

from dramatis.agents.catalog import open_model
from dramatis.agents.character import AgentSettings
from dramatis.agents.model import LanguageModel
from dramatis.agents.scene_store import SceneSpec, SceneStore
from dramatis.agents.turn import Turn
from dramatis.arena.job_memory import prepare_memory
from dramatis.arena.suite import Job
from dramatis.core.settings import Settings
from dramatis.personas import Persona
from dramatis.staging import (
    build_scene,
    cast_personas,
    default_setting,
    opening_from_play,
    scene_spec,
)

ModelFactory = Callable[[Job, Settings], LanguageModel]


def job_spec(job: Job, personas: list[Persona]) -> tuple[SceneSpec, list[Turn]]:
    """The scene spec (as `dramatis stage` saves it) and opening turns of a job."""
    names = [p.name for p in personas]
    setting = job.scene.setting or default_setting(names)
    turns: list[Turn] = []
    if job.scene.source:
        play_setting, turns = opening_from_play(job.scene.source)
        setting = job.scene.setting or play_setting
    c = job.config
    spec = scene_spec(
        personas,
        thread_id=job.id,
        setting=setting,
        source_scene=job.scene.source,
        model=c.model,
        seed=job.seed,
        policy=c.policy,
        agent=AgentSettings(
            max_tokens=c.max_tokens,
            temperature=c.temperature,
            prompt_format=c.prompt_format,
            **c.agent,
        ),
        adapters=c.adapters,
        memory=c.memory,
    )
    return spec, turns


def llama_model(job: Job, settings: Settings) -> LanguageModel:
    """The job's model, opened as `dramatis stage` opens it (the default factory)."""
    return open_model(job.config.model, settings, seed=job.seed)


def run_job(
    job: Job, folder: Path, settings: Settings, make_model: ModelFactory = llama_model
) -> dict:
    """Stage the job's scene into `folder` (transcript.jsonl, scene.json); a summary row.

    The scene is built by `dramatis.staging.build_scene`, the path `dramatis stage`
    takes: same agents, voice index, adapters, memory, policy and checkpointed graph."""
    start = time.perf_counter()
    spec, seed_turns = job_spec(job, cast_personas(job.scene.cast))
    folder.mkdir(parents=True, exist_ok=True)
    if spec.memory:  # lore indexed once; a fresh memory thread per attempt
        spec = prepare_memory(spec, settings)
    db = folder / "scene.sqlite"
    db.unlink(missing_ok=True)  # an unfinished earlier attempt is redone from the start
    store = SceneStore(db)
    staged = build_scene(spec, store, settings, model=make_model(job, settings))
    store.save(spec)
    try:
        generated = list(staged.scene.run(spec.thread_id, job.turns, seed_turns))
    finally:
        if staged.memory is not None:
            staged.memory.store.close()  # qdrant local mode: one open store at a time
    turns = staged.scene.turns(spec.thread_id)
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
