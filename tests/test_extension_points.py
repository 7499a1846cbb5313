"""Each extension point takes one new file plus its registration: a prompt format, a
backend and a memory store registered from this test file alone reach the CLI
(docs/architecture.md, "How to add ...")."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from dramatis.agents import catalog, formats
from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.formats import PromptFormat, register_format
from dramatis.cli import app


def brief_page(p) -> str:
    """A format of our own: the setting and the last speech, then the heading."""
    last = p.history[-1]["text"] if p.history else "(silence)"
    return f"BRIEF. {p.setting}\nLAST: {last}\n{p.speaker.upper()}:"


@pytest.fixture
def brief(monkeypatch):
    monkeypatch.setattr(formats, "_REGISTRY", dict(formats._REGISTRY))  # undone afterwards
    return register_format(
        PromptFormat(
            "brief",
            "the setting and the last speech only",
            render=lambda _model, p: brief_page(p),
            words=brief_page,
            stops=("\n",),
        )
    )


def test_a_prompt_format_registered_here_reaches_stage_prompt_and_echo(tmp_path, home, brief):
    out = tmp_path / "run"
    args = ["stage", "--cast", "Hamlet,Horatio", "--model", "fake", "--turns", "2"]
    staged = CliRunner().invoke(app, [*args, "--format", "brief", "--out", str(out)])
    assert staged.exit_code == 0, staged.output
    spec = json.loads((out / "scene.json").read_text())
    assert spec["agent"]["prompt_format"] == "brief"
    shown = CliRunner().invoke(app, ["prompt", "--cast", "Hamlet,Horatio", "--format", "brief",
                                     "--model", "fake", "--json"])  # fmt: skip
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["prompt"].startswith("BRIEF. A hall in a castle")
    # the echo metric checks speeches against every registered format's words
    from dramatis.arena.context import Contexts
    from dramatis.arena.echo import prompt_text

    assert "BRIEF. A hall." in prompt_text(
        Contexts().get(["Hamlet", "Horatio"]), "Hamlet", "A hall."
    )
    refused = CliRunner().invoke(app, [*args, "--format", "bogus"])
    assert refused.exit_code != 0 and "brief" in refused.output  # the error lists it


def test_the_shipped_formats_are_registered_once():
    assert formats.format_names() == ("page", "auto", "chat", "script")
    with pytest.raises(ValueError, match="registered already"):
        register_format(formats.get_format("page"))


class Crier(FakeModel):
    """A backend of our own: every speech is the town crier's."""

    name = "crier"

    NEWS = ("the king is dead", "the prince is mad", "the ghost walks", "Norway arms")

    def _reply(self, sampling) -> str:
        return f"Hear ye, {self.NEWS[(sampling.seed or 0) % len(self.NEWS)]}."


@pytest.fixture
def crier(monkeypatch):
    monkeypatch.setattr(catalog, "_BACKENDS", dict(catalog._BACKENDS))  # undone afterwards
    return catalog.register_backend(
        catalog.Backend(
            "crier",
            "crier:NAME, a town crier",
            takes=lambda text: text.startswith("crier:"),
            open=lambda spec, settings, seed: Crier(),
            adapters=False,
        )
    )


def test_a_backend_registered_here_reaches_stage(tmp_path, home, crier):
    assert catalog.parse_model("crier:town") == catalog.ModelSpec("crier", "crier:town")
    assert catalog.parse_model("m.gguf").kind == "file"  # the path catch-all stays last
    out = tmp_path / "run"
    args = ["stage", "--cast", "Hamlet,Horatio", "--turns", "2", "--out", str(out)]
    staged = CliRunner().invoke(app, [*args, "--model", "crier:town"])
    assert staged.exit_code == 0, staged.output
    turns = [json.loads(line) for line in (out / "transcript.jsonl").read_text().splitlines()]
    assert [t["text"][:8] for t in turns] == ["Hear ye,"] * 2
    assert json.loads((out / "scene.json").read_text())["model"] == "crier:town"
    refused = CliRunner().invoke(app, [*args, "--model", "crier:town", "--adapters"])
    assert refused.exit_code != 0 and "takes no LoRA adapters" in refused.output


class ShelfStore:
    """A memory store of our own: numpy shelves in this process, kept by name."""

    shelves: dict[str, dict] = {}

    def __init__(self, where: str) -> None:
        from dramatis.memory.embed import DIM
        from dramatis.memory.mirror import Mirror

        self.where = where
        self.shelf = self.shelves.setdefault(where, {n: Mirror(DIM) for n in ("lore", "episodic")})

    def upsert(self, name, ids, vectors, payloads) -> None:
        self.shelf[name].add(ids, vectors, payloads)

    def delete(self, name, ids) -> None:
        self.shelf[name].remove(ids)

    def search(self, name, vector, where, limit):
        return self.shelf[name].search(vector, where, limit)

    def payloads(self, name, where, limit=10_000):
        def holds(p: dict) -> bool:
            return (
                all(p.get(f) == v for f, v in where.equals)
                and all(v in p.get(f, ()) for f, v in where.contains)
                and all(p.get(f, 0) < v for f, v in where.below)
            )

        return [p for p in self.shelf[name].payloads if holds(p)][:limit]

    def count(self, name, where=None) -> int:
        from dramatis.memory.mirror import Where

        return len(self.payloads(name, where or Where()))

    def close(self) -> None:
        pass


@pytest.fixture
def shelf(monkeypatch):
    from dramatis.memory import stores

    monkeypatch.setattr(stores, "_REGISTRY", dict(stores._REGISTRY))  # undone afterwards
    ShelfStore.shelves.clear()
    return stores.register_store(
        stores.StoreEntry(
            "shelf",
            "shelf:NAME, numpy in this process",
            lambda w: w.startswith("shelf:"),
            ShelfStore,
        )
    )


def test_a_memory_store_registered_here_holds_a_staged_scene(
    tmp_path, home, shelf, embedding_cache, monkeypatch
):
    import shutil

    from conftest import hamlet_lore_slice

    from dramatis.core.settings import Settings
    from dramatis.memory.embed import Embedder
    from dramatis.memory.lore import index_play
    from dramatis.memory.mirror import Where
    from dramatis.memory.settings import MemorySettings
    from dramatis.memory.stores import open_store

    ms = MemorySettings.under(Settings.load(home=home).ensure().home)
    shutil.copytree(embedding_cache, ms.embeddings, dirs_exist_ok=True)
    play, short = hamlet_lore_slice()
    index_play(open_store("shelf:t"), Embedder(ms.embeddings, threads=1), play, speeches=short)
    monkeypatch.setenv("DRAMATIS_MEMORY_STORE", "shelf:t")
    out = tmp_path / "run"
    args = ["stage", "--cast", "Hamlet,Horatio", "--scene", "hamlet:1.2", "--memory"]
    staged = CliRunner().invoke(app, [*args, "--model", "fake", "--turns", "2", "--out", str(out)])
    assert staged.exit_code == 0, staged.output
    thread = json.loads((out / "scene.json").read_text())["thread_id"]
    episodic = ShelfStore("shelf:t").count("episodic", Where(equals=(("thread", thread),)))
    assert episodic == 4 + 2  # the play's four opening speeches and the two turns
