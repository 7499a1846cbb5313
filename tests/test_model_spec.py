"""A model value is parsed once, by one function, into a ModelSpec (agents/catalog.py)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from dramatis.agents.catalog import DEFAULT_MODEL, ModelSpec, parse_model
from dramatis.core.errors import DramatisError
from dramatis.core.settings import Settings


def test_each_kind_of_model_value(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert parse_model("smollm2") == ModelSpec("bundled", "smollm2")
    assert parse_model(None) == parse_model("") == ModelSpec("bundled", DEFAULT_MODEL)
    assert parse_model("models/m.gguf") == ModelSpec("file", str(tmp_path / "models" / "m.gguf"))
    server = "openai:http://127.0.0.1:8080/v1#smollm2"
    assert parse_model(server) == ModelSpec("openai", server) and parse_model(server).served
    assert parse_model("fake") == ModelSpec("fake", "fake")
    assert not parse_model("fake").takes_adapters and parse_model("smollm2").takes_adapters


def test_the_default_model_is_defined_once():
    import dramatis.agents.catalog as catalog
    import dramatis.core.settings as core

    assert catalog.DEFAULT_MODEL is core.DEFAULT_MODEL and Settings().model == DEFAULT_MODEL


def test_a_malformed_server_value_is_refused_when_parsed():
    with pytest.raises(DramatisError, match="write openai:http://HOST:PORT/v1#MODEL"):
        parse_model("openai:localhost:8080")


def test_a_model_without_a_file_says_so_in_one_line(tmp_path):
    with pytest.raises(DramatisError, match="fake has no model file here") as err:
        parse_model("fake").gguf(tmp_path)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--model", "openai:nowhere"], "write openai:http://HOST:PORT/v1#MODEL"),
        (["--model", "fake", "--adapters"], "model fake takes no LoRA adapters"),
    ],
)
def test_stage_refuses_a_model_it_cannot_use_in_one_line(home, args, says):
    from dramatis.cli import app

    run = CliRunner().invoke(app, ["stage", "--cast", "Hamlet,Horatio", *args])
    assert run.exit_code == 2 and says in run.output and len(run.output.splitlines()) == 1


def test_serve_state_parses_its_model_once(home):
    from dramatis.agents.fake_backend import FakeModel
    from dramatis.serve import ServeState

    server = "openai:http://127.0.0.1:8080/v1#m"
    state = ServeState(settings=Settings(home=home, model=server), model=FakeModel())
    assert state.model_spec == ModelSpec("openai", server)
