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


class VectorsGiven:
    """An embedder stand-in for recall tests whose queries are vectors, given directly."""

    def encode(self, texts):
        raise AssertionError("queries here are vectors")


def unit(*xs):
    """A unit vector in the embedding's 384 dimensions: unit(1, 1) -> [0.71, 0.71, 0, ...]."""
    import numpy as np

    v = np.zeros(384, dtype=np.float32)
    v[: len(xs)] = xs
    return v / np.linalg.norm(v)


def asked_sampling(supports=None, **settings):
    """The Sampling Hamlet's agent asks a fake model for, answering Ophelia's "Good my
    lord?" with `settings` (AgentSettings fields, page format) on a model that honours
    `supports` (every feature when None)."""
    from dramatis.agents.character import AgentSettings, CharacterAgent
    from dramatis.agents.fake_backend import FakeModel
    from dramatis.agents.model import FEATURES
    from dramatis.agents.turn import make_turn
    from dramatis.personas import find_persona

    cast = ["Hamlet", "Ophelia"]
    model = FakeModel(["Ay, my lord."], supports=FEATURES if supports is None else supports)
    agent = CharacterAgent(
        find_persona("Hamlet"),
        model,
        cast=cast,
        settings=AgentSettings(prompt_format="page", **settings),
    )
    agent.speak([make_turn(0, "Ophelia", "Good my lord?", present=cast)], "A room.", seed=1)
    return model.samplings[0]


def one_draw_agent(persona, cast, replies, plays=(), **settings):
    """(agent, fake model) for a guard's tests: `persona` (a find_persona role or a
    Persona) in `cast`, answering with `replies` one draw a turn (page format, best of 1,
    two retries, no drawn length) with `settings` (AgentSettings fields) on top."""
    from dramatis.agents.character import AgentSettings, CharacterAgent
    from dramatis.agents.fake_backend import FakeModel
    from dramatis.personas import find_persona

    if isinstance(persona, str):
        persona = find_persona(persona)
    options = {"prompt_format": "page", "best_of": 1, "retries": 2, "length_share": 0.0}
    model = FakeModel(list(replies))
    settings = AgentSettings(**{**options, **settings})
    agent = CharacterAgent(persona, model, cast=list(cast), settings=settings, plays=list(plays))
    return agent, model


@pytest.fixture
def staged_critic(tmp_path):
    """critic(**agent settings) -> Iago's best-of-n critic as `scene_agents` builds it for
    an Othello and Iago scene on the real staging path (a fake model; None when the
    settings ask for no critic)."""
    from dramatis.agents.character import AgentSettings
    from dramatis.agents.fake_backend import FakeModel
    from dramatis.agents.scene_store import SceneSpec
    from dramatis.core.settings import Settings
    from dramatis.personas import find_persona
    from dramatis.staging import scene_agents

    personas = [find_persona("Othello"), find_persona("Iago")]

    def critic(**agent):
        spec = SceneSpec(
            thread_id="t",
            cast=["Othello", "Iago"],
            setting="A street.",
            agent=AgentSettings(**agent),
        )
        return scene_agents(spec, personas, FakeModel(), Settings(home=tmp_path))["Iago"].critic

    return critic


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


def hamlet_lore_slice():
    """About 175 short Hamlet speeches from all five acts: lore small enough for fast tests."""
    from dramatis.personas import load_play

    play = load_play("hamlet")
    return play, [s for s in play.speeches() if len(s.text.split()) <= 14][::4]


@pytest.fixture(scope="session")
def embedding_cache(tmp_path_factory):
    """An embedding cache holding the Hamlet lore slice, encoded once per test session."""
    from dramatis.memory.embed import Embedder
    from dramatis.memory.lore import speech_text

    folder = tmp_path_factory.mktemp("embeddings")
    _, speeches = hamlet_lore_slice()
    Embedder(folder, threads=1).encode_cached([speech_text(s) for s in speeches])
    return folder
