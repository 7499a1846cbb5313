"""The default model (Gemma 3 270M) for staging, and SmolLM2 as the base adapters are
trained on and staged with."""

from __future__ import annotations

from dramatis.agents.catalog import (
    BUNDLED,
    DEFAULT_MODEL,
    TRAINING_BASE,
    staging_model,
    training_base,
)
from dramatis.core.settings import Settings


def test_the_default_is_gemma_and_adapters_train_on_smollm2(monkeypatch):
    monkeypatch.delenv("DRAMATIS_MODEL", raising=False)
    assert DEFAULT_MODEL == "gemma3-270m" == Settings.load().model
    assert "(default)" in BUNDLED[DEFAULT_MODEL][2]
    assert TRAINING_BASE == training_base(None) == training_base(DEFAULT_MODEL) == "smollm2"
    assert training_base("qwen1.5b") == "qwen1.5b"  # another choice is kept
    assert training_base("/models/x.gguf") == "/models/x.gguf"


def test_adapters_stage_on_their_training_base_unless_a_model_is_asked_for(monkeypatch):
    monkeypatch.delenv("DRAMATIS_MODEL", raising=False)
    assert staging_model(None, adapters=False) is None  # the default
    assert staging_model(None, adapters=True) == "smollm2"
    assert staging_model("gemma3-270m", adapters=True) == "gemma3-270m"
    monkeypatch.setenv("DRAMATIS_MODEL", "/models/x.gguf")
    assert staging_model(None, adapters=True) is None  # the environment's model wins
    assert Settings.load(model=staging_model(None, adapters=True)).model == "/models/x.gguf"


def test_the_default_model_is_joined_whole_before_it_is_visible(tmp_path):
    from dramatis.agents.catalog import resolve_model

    path = resolve_model(DEFAULT_MODEL, tmp_path)
    assert path.parent == tmp_path and path.read_bytes()[:4] == b"GGUF"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no part file left behind
    assert resolve_model(DEFAULT_MODEL, tmp_path) == path  # joined once
