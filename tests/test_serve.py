"""`dramatis serve` driven by the official `openai` client on loopback, with the bundled
model: the cast as models, in-character replies streamed and not, OpenAI-shaped errors."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

openai = pytest.importorskip("openai")
uvicorn = pytest.importorskip("uvicorn")

from dramatis.core.settings import Settings  # noqa: E402
from dramatis.serve import ServeState, create_app  # noqa: E402
from dramatis.serve_cli import is_loopback  # noqa: E402

KEY = "sk-dramatis-test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(app) -> tuple[uvicorn.Server, str]:
    """Run `app` with uvicorn in a thread on 127.0.0.1; (server, base url)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}/v1"


@pytest.fixture(scope="module")
def served(smollm2, tmp_path_factory):
    home = tmp_path_factory.mktemp("serve_home")
    state = ServeState(settings=Settings(home=home), model=smollm2, api_key=KEY)
    server, url = start(create_app(state))
    yield url
    server.should_exit = True


@pytest.fixture
def client(served):
    return openai.OpenAI(base_url=served, api_key=KEY, max_retries=0, timeout=120)


HAMLET_ASKED = [
    {"role": "system", "content": "The battlements of Elsinore, past midnight."},
    {"role": "user", "name": "Horatio", "content": "My lord, I think I saw your father."},
]


@pytest.mark.model
def test_models_list_the_cast(client):
    models = {m.id for m in client.models.list()}
    assert {"hamlet", "ophelia", "lady_macbeth"} <= models


@pytest.mark.model
def test_chat_completion_in_character(client):
    reply = client.chat.completions.create(
        model="hamlet", messages=HAMLET_ASKED, max_tokens=24, seed=4, temperature=0.7
    )
    choice = reply.choices[0]
    assert choice.message.role == "assistant"
    text = choice.message.content
    assert text and text.strip()
    assert "HORATIO:" not in text and "Horatio:" not in text.splitlines()[0][:9]
    assert choice.finish_reason in ("stop", "length")
    assert reply.usage.prompt_tokens > 20 and 0 < reply.usage.completion_tokens <= 24


@pytest.mark.model
def test_chat_completion_streamed(client):
    stream = client.chat.completions.create(
        model="ophelia",
        messages=[{"role": "user", "content": "Good Ophelia, how fares your father?"}],
        max_tokens=24,
        seed=9,
        stream=True,
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    pieces = [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content]
    assert len(pieces) > 1  # it really streams
    assert "".join(pieces).strip()
    assert chunks[-1].choices[0].finish_reason in ("stop", "length")


@pytest.mark.model
def test_openai_shaped_errors(client, served):
    with pytest.raises(openai.NotFoundError) as err:
        client.chat.completions.create(model="nobody-at-all", messages=HAMLET_ASKED)
    assert err.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model="hamlet", messages=[])
    assert bad.value.body["param"] == "messages"
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="hamlet", messages=HAMLET_ASKED, temperature=9)
    wrong = openai.OpenAI(base_url=served, api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as auth:
        wrong.models.list()
    assert auth.value.code == "invalid_api_key"
    raw = httpx.post(
        f"{served}/chat/completions",
        content=b"{not json",
        headers={"authorization": f"Bearer {KEY}", "content-type": "application/json"},
    )
    assert raw.status_code == 400 and raw.json()["error"]["type"] == "invalid_request_error"


def test_loopback_check():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")


def test_serve_refuses_an_open_host_without_a_key():
    run = subprocess.run(
        [sys.executable, "-m", "dramatis", "serve", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert run.stderr.startswith("error: --host 0.0.0.0") and "Traceback" not in run.stderr


def test_long_system_prompts_are_clipped_to_a_setting():
    from dramatis.personas import find_persona
    from dramatis.serve import SETTING_CHARS, ChatRequest, clip, conversation

    long = "A very long world description. " * 200
    request = ChatRequest(
        model="hamlet",
        messages=[
            {"role": "system", "content": long},
            {"role": "user", "name": "Horatio", "content": "My lord!"},
            {"role": "assistant", "content": "Horatio, or I do forget myself."},
            {"role": "user", "content": [{"type": "text", "text": "Hail."}]},
        ],
    )
    turns, setting, user = conversation(request, find_persona("Hamlet"))
    assert len(setting) <= SETTING_CHARS and setting.endswith("description.")
    assert [(t["speaker"], t["text"]) for t in turns] == [
        ("Horatio", "My lord!"),
        ("Hamlet", "Horatio, or I do forget myself."),
        ("Horatio", "Hail."),
    ]
    assert user == "Horatio" and turns[0]["present"] == ["Hamlet", "Horatio"]
    assert clip("One. Two three.", 10) == "One."
