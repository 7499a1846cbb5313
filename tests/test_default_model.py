"""The default model (Gemma 3 270M): what stage, chat and serve run, and what `dramatis
train` trains adapters on, unless a model is named."""

from __future__ import annotations

from dramatis.agents.catalog import BUNDLED, DEFAULT_MODEL
from dramatis.core.settings import Settings


def test_the_default_is_gemma_for_staging_and_training(monkeypatch):
    monkeypatch.delenv("DRAMATIS_MODEL", raising=False)
    assert DEFAULT_MODEL == "gemma3-270m" == Settings.load().model
    assert "(default; adapters train on it)" in BUNDLED[DEFAULT_MODEL][2]
    assert Settings.load(model="smollm2").model == "smollm2"  # another choice is kept
    monkeypatch.setenv("DRAMATIS_MODEL", "/models/x.gguf")
    assert Settings.load().model == "/models/x.gguf"


def test_the_default_model_is_joined_whole_before_it_is_visible(tmp_path):
    from dramatis.agents.catalog import resolve_model

    path = resolve_model(DEFAULT_MODEL, tmp_path)
    assert path.parent == tmp_path and path.read_bytes()[:4] == b"GGUF"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no part file left behind
    assert resolve_model(DEFAULT_MODEL, tmp_path) == path  # joined once
