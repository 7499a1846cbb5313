"""The OpenAI-compatible backend: against llama-cpp-python's own server on loopback with
the bundled GGUF (real path), and retries/errors with a mock transport (fast)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from dramatis.agents.catalog import open_model, resolve_model
from dramatis.agents.character import CharacterAgent
from dramatis.agents.model import Sampling
from dramatis.agents.openai_backend import OpenAIModel, parse_endpoint, sse_texts
from dramatis.agents.turn import make_turn
from dramatis.agents.wrappers import Retrying
from dramatis.core.errors import DramatisError
from dramatis.core.settings import Settings
from dramatis.personas import find_persona

ADAPTER = "hamlet.hamlet@v1"  # served by the test server as a second model alias


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    """`python -m llama_cpp.server` on 127.0.0.1, the bundled model under two names."""
    pytest.importorskip("sse_starlette", reason="needs the serve extra")
    model = str(resolve_model("smollm2", cache_dir=None))
    port = free_port()
    one = {"model": model, "n_threads": 1, "n_ctx": 1024, "verbose": False, "seed": 0}
    config = {
        "host": "127.0.0.1",
        "port": port,
        "models": [{**one, "model_alias": "smollm2"}, {**one, "model_alias": ADAPTER}],
    }
    path = tmp_path_factory.mktemp("llama_server") / "config.json"
    path.write_text(json.dumps(config))
    log = open(path.with_suffix(".log"), "w")  # noqa: SIM115 - closed in teardown
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--config_file", str(path)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert proc.poll() is None, path.with_suffix(".log").read_text()
            try:
                if httpx.get(f"{url}/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail("llama_cpp.server did not start in 90 s")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.mark.model
def test_stream_and_whole_completion_from_the_real_server(llama_server):
    model = OpenAIModel(parse_endpoint(f"openai:{llama_server}#smollm2"))
    sampling = Sampling(max_tokens=16, temperature=0.0, seed=3, stop=("\n",))
    pieces = list(model.stream("HORATIO: Hail to your lordship!\nHAMLET:", sampling))
    whole = model.generate("HORATIO: Hail to your lordship!\nHAMLET:", sampling)
    assert len(pieces) > 1  # streamed, not one block
    assert "".join(pieces) == whole.text and whole.text.strip()
    assert "\n" not in whole.text  # the stop sequence was sent and honoured
    assert 0 < whole.tokens <= 16
    assert model.last_model == "smollm2"


@pytest.mark.model
def test_adapter_maps_to_a_model_name_on_the_server(llama_server):
    model = OpenAIModel(parse_endpoint(f"openai:{llama_server}#smollm2"))
    model.load_adapter(ADAPTER, "ignored/path")
    out = model.generate("HAMLET:", Sampling(max_tokens=4, seed=1, adapter=ADAPTER))
    assert model.last_model == ADAPTER and out.text
    with pytest.raises(DramatisError, match="not named"):
        model.generate("HAMLET:", Sampling(max_tokens=4, adapter="ophelia@v9"))


@pytest.mark.model
def test_a_character_speaks_through_the_server(llama_server, tmp_path):
    settings = Settings(home=tmp_path)
    model = open_model(f"openai:{llama_server}#smollm2", settings)
    assert isinstance(model, Retrying) and isinstance(model.inner, OpenAIModel)
    cast = ["Hamlet", "Horatio"]
    agent = CharacterAgent(find_persona("Hamlet"), model, cast=cast)
    said = [make_turn(0, "Horatio", "My lord, the ghost walks tonight.", present=cast)]
    streamed: list[str] = []
    utterance = agent.speak(said, "The battlements at night.", seed=2, on_text=streamed.append)
    assert utterance.source == "model" and utterance.text.strip()
    assert utterance.prompt_format == "page"  # the agents' default, no chat template needed
    assert streamed and streamed[-1] == utterance.text


def test_server_down_is_one_line(tmp_path):
    model = Retrying(
        OpenAIModel(parse_endpoint(f"openai:http://127.0.0.1:{free_port()}/v1#m")), 1, 0.01
    )
    with pytest.raises(DramatisError) as err:
        model.generate("x", Sampling())
    assert "is not reachable" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(DramatisError, match="not reachable"):
        list(model.stream("x", Sampling()))


def mock_model(handler, retries: int = 2) -> Retrying:
    """The server backend as `open_model` gives it: inside `Retrying`."""
    inner = OpenAIModel(
        parse_endpoint("openai:http://server.test/v1#base"),
        transport=httpx.MockTransport(handler),
    )
    return Retrying(inner, retries=retries, backoff=0.001)


def test_retries_a_busy_server_then_succeeds():
    calls: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(json.loads(request.content))
        if len(calls) < 3:
            return httpx.Response(503, json={"error": {"message": "loading"}})
        return httpx.Response(200, json={"model": "base", "choices": [{"text": "Ay, my lord."}]})

    out = mock_model(handler).generate("p", Sampling(max_tokens=5, repeat_penalty=1.2, seed=4))
    assert out.text == "Ay, my lord." and len(calls) == 3
    body = calls[0]
    assert body["model"] == "base" and body["max_tokens"] == 5 and body["seed"] == 4
    assert body["repeat_penalty"] == 1.2 and body["stream"] is False
    assert "min_tokens" not in body  # sent only when set
    mock_model(handler).generate("p", Sampling(max_tokens=5, min_tokens=3))
    assert calls[-1]["min_tokens"] == 3


def test_penalties_are_sent_and_word_biases_refused_before_any_request():
    calls: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(json.loads(request.content))
        return httpx.Response(200, json={"choices": [{"text": "Ay."}]})

    model = mock_model(handler)
    model.generate("p", Sampling(presence_penalty=0.3))
    assert calls[-1]["presence_penalty"] == 0.3
    with pytest.raises(DramatisError, match="cannot honour banned"):
        model.generate("p", Sampling(banned=("shakespeare",)))
    with pytest.raises(DramatisError, match="cannot honour boosted"):
        list(model.stream("p", Sampling(boosted=("Denmark",), boost=3.0)))
    assert len(calls) == 1


def test_timeouts_and_refusals_are_one_line():
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(DramatisError, match="did not answer in time"):
        mock_model(slow, retries=1).generate("p", Sampling())

    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"error": {"message": "The model `x` does not exist"}})

    with pytest.raises(DramatisError) as err:
        mock_model(refuse).generate("p", Sampling())
    assert "HTTP 404 The model `x` does not exist" in str(err.value)


def test_sse_parsing_stops_at_done():
    lines = ['data: {"choices": [{"text": "a"}]}', "", ": comment", "data: [DONE]", "data: {}"]
    assert list(sse_texts(iter(lines))) == [{"choices": [{"text": "a"}]}]


@pytest.mark.parametrize("spec", ["openai:localhost:8080#m", "openai:http://h/v1", "openai:#m"])
def test_bad_model_spec(spec):
    with pytest.raises(DramatisError, match="openai:http://HOST:PORT/v1#MODEL"):
        parse_endpoint(spec)


def test_api_key_from_the_environment(monkeypatch):
    monkeypatch.setenv("DRAMATIS_OPENAI_API_KEY", "sk-test")
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization", ""))
        return httpx.Response(200, json={"choices": [{"text": "x"}]})

    mock_model(handler).generate("p", Sampling())
    assert seen == ["Bearer sk-test"]


@pytest.mark.slow
@pytest.mark.model
def test_stage_cli_with_an_openai_model(llama_server, tmp_path):
    env = {**os.environ, "DRAMATIS_HOME": str(tmp_path / "home")}
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "dramatis", "stage", "--cast", "Hamlet,Ophelia", "--turns", "2"]
    cmd += ["--max-tokens", "20", "--model", f"openai:{llama_server}#smollm2", "--out", str(out)]
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    turns = [json.loads(x) for x in Path(out / "transcript.jsonl").read_text().splitlines()]
    assert len(turns) == 2 and all(t["text"].strip() for t in turns)


def test_stage_adapters_become_server_model_names(tmp_path):
    from dramatis.training.registry import AdapterMeta, AdapterRegistry
    from dramatis.training.serving import name_served_adapters

    staged = tmp_path / "staged"
    staged.mkdir()
    meta = AdapterMeta(
        character="Hamlet", play="hamlet", base_model="m.gguf", base_sha256="a", data_sha256="b"
    )
    AdapterRegistry(tmp_path / "adapters").add(staged, meta)
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(json.loads(request.content)["model"])
        return httpx.Response(200, json={"choices": [{"text": "x"}]})

    model = mock_model(handler)
    personas = [find_persona("Hamlet"), find_persona("Ophelia")]
    chosen, notes = name_served_adapters(model, personas, Settings(home=tmp_path))
    assert chosen == {"Hamlet": "hamlet.hamlet@v1", "Ophelia": None}
    assert "Ophelia: no adapter" in notes[1]
    model.generate("p", Sampling(adapter=chosen["Hamlet"]))
    model.generate("p", Sampling(adapter=chosen["Ophelia"]))
    assert asked == ["hamlet.hamlet@v1", "base"]
