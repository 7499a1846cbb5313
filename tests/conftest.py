from __future__ import annotations

from dataclasses import dataclass, field

import pytest


@dataclass
class StubPersona:
    """Just what CharacterAgent reads of a persona, for tests with a fake model."""

    name: str
    sample_lines: list[str] = field(default_factory=lambda: ["Words, words, words."])

    def card(self) -> str:
        return f"{self.name}, a character in a play."


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A private DRAMATIS_HOME per test: no test touches the user's scenes."""
    path = tmp_path / "home"
    monkeypatch.setenv("DRAMATIS_HOME", str(path))
    return path


@pytest.fixture(scope="session")
def smollm2():
    """The bundled default model, loaded once per test session."""
    from dramatis.agents.catalog import resolve_model
    from dramatis.agents.llama_backend import LlamaCppModel

    return LlamaCppModel(resolve_model("smollm2", cache_dir=None), n_threads=2, seed=0)
