"""`stage --adapters`: each character speaks with its active adapter on one shared model."""

from __future__ import annotations

import pytest

from dramatis.agents.catalog import resolve_model
from dramatis.agents.hf_base import file_sha256
from dramatis.agents.llama_backend import LlamaCppModel
from dramatis.agents.scene_store import SceneSpec, SceneStore
from dramatis.core.errors import DramatisError
from dramatis.core.settings import Settings
from dramatis.staging import build_scene
from dramatis.training.fake_adapters import random_adapter
from dramatis.training.registry import AdapterMeta, AdapterRegistry

pytestmark = pytest.mark.model


def register(settings: Settings, folder, character: str, sha: str) -> None:
    meta = AdapterMeta(
        character=character, play="hamlet", base_model="x.gguf", base_sha256=sha, data_sha256="d",
        ppl_before=30.0, ppl_after=20.0,
    )  # fmt: skip
    AdapterRegistry(settings.home / "adapters").add(folder, meta)


def test_stage_with_adapters_and_fallback(tmp_path):
    settings = Settings(home=tmp_path / "home").ensure()
    gguf = resolve_model("smollm2", settings.cache_dir)
    register(settings, random_adapter(tmp_path / "h", 5, r=4), "Hamlet", file_sha256(gguf))
    model = LlamaCppModel(gguf, n_threads=1, seed=0)
    store = SceneStore(settings.scenes_db)
    spec = SceneSpec(
        thread_id="t1", cast=["Hamlet", "Ophelia"], setting="A hall.", seed=3,
        policy="round-robin", agent={"max_tokens": 8}, adapters=True,
    )  # fmt: skip
    store.save(spec)
    spec = store.load("t1")  # as `dramatis resume` gets it: the choice is saved
    staged = build_scene(spec, store, settings, model=model)
    assert staged.scene.agents["Hamlet"].adapter == "hamlet.hamlet@v1"
    assert staged.scene.agents["Ophelia"].adapter is None
    assert any(n.startswith("Ophelia: no adapter") for n in staged.notes)
    assert model.adapters == ("hamlet.hamlet@v1",)
    turns = [e for e in staged.scene.run("t1", 2) if isinstance(e, dict)]
    assert [t["speaker"] for t in turns] == ["Hamlet", "Ophelia"]

    register(settings, random_adapter(tmp_path / "o", 6, r=4), "Ophelia", "f" * 64)
    with pytest.raises(DramatisError, match="was trained on x.gguf"):
        build_scene(spec, store, settings, model=model)


def test_stage_voice_is_stacked_under_every_character(tmp_path):
    """`stage --stage-voice 0.5`: the shared voice applies with Hamlet's adapter and alone
    for Ophelia, who has none; the choice is saved with the scene."""
    from dramatis.training.voice import STAGE_VOICE, VOICE_PLAY

    settings = Settings(home=tmp_path / "home").ensure()
    gguf = resolve_model("smollm2", settings.cache_dir)
    sha = file_sha256(gguf)
    register(settings, random_adapter(tmp_path / "h", 5, r=4), "Hamlet", sha)
    store = SceneStore(settings.scenes_db)
    spec = SceneSpec(
        thread_id="t2", cast=["Hamlet", "Ophelia"], setting="A hall.", seed=3,
        policy="round-robin", agent={"max_tokens": 8}, adapters=True, stage_voice=0.5,
    )  # fmt: skip
    store.save(spec)
    with pytest.raises(DramatisError, match="no stage voice for .*`dramatis train --stage-voice`"):
        build_scene(store.load("t2"), store, settings, model=LlamaCppModel(gguf, n_threads=1))

    voice = AdapterMeta(
        character=STAGE_VOICE, play=VOICE_PLAY, base_model="x.gguf", base_sha256=sha,
        data_sha256="d", stage="voice",
    )  # fmt: skip
    AdapterRegistry(settings.home / "adapters").add(random_adapter(tmp_path / "v", 7, r=4), voice)
    model = LlamaCppModel(gguf, n_threads=1, seed=0)
    staged = build_scene(store.load("t2"), store, settings, model=model)
    assert any(n.startswith("stage voice plays.stage-voice@v1 at scale 0.5") for n in staged.notes)
    applied = []
    loras = model._loras
    real_apply = loras.apply

    def spy(name, scale=1.0):
        changed = real_apply(name, scale)
        applied.append(loras.current)
        return changed

    loras.apply = spy
    turns = [e for e in staged.scene.run("t2", 2) if isinstance(e, dict)]
    assert [t["speaker"] for t in turns] == ["Hamlet", "Ophelia"]
    voice_layer = ("plays.stage-voice@v1", 0.5)
    assert (voice_layer, ("hamlet.hamlet@v1", 1.0)) in applied  # Hamlet: voice + his own
    assert (voice_layer,) in applied  # Ophelia: the voice alone
