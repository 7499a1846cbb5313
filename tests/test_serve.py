"""`dramatis serve` driven by the official `openai` client on loopback, with the bundled
model: the cast as models, in-character replies streamed and not, OpenAI-shaped errors."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest

openai = pytest.importorskip("openai")
uvicorn = pytest.importorskip("uvicorn")

from dramatis.agents.guard import narrates  # noqa: E402
from dramatis.agents.model import LanguageModel, Message, Sampling  # noqa: E402
from dramatis.agents.prompts import CHAT_INSTRUCTION  # noqa: E402
from dramatis.arena.in_world import out_of_world  # noqa: E402
from dramatis.core.settings import Settings  # noqa: E402
from dramatis.personas.card_store import CardStore, import_card  # noqa: E402
from dramatis.serve import ServeState, create_app, persona_for  # noqa: E402
from dramatis.serve_cli import check_format, is_loopback  # noqa: E402

KEY = "sk-dramatis-test"
# How long a client waits for a reply: as long as the server may take before it answers
# by itself (its wait line, then its reply limit: 503 and 504 after them), and a margin.
# The real model on a busy 2-core machine took 50-108 s a test here; a client that gave
# up at 120 s failed tests whose server would still have answered.
ANSWER_S = ServeState.wait_s + ServeState.timeout_s + 30
YORICK = Path(__file__).parent / "fixtures" / "cards" / "yorick_v2.json"


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
    return openai.OpenAI(base_url=served, api_key=KEY, max_retries=0, timeout=ANSWER_S)


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
    # a speech in the scene, not about it ("Hamlet replies...", "In the play...")
    assert out_of_world(text) is None and not narrates(text, ["Hamlet", "Horatio"]), text
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


# --- imported cards name the caller; --format --------------------------------------


class Recording(LanguageModel):
    """The bundled model, keeping every prompt it is asked to continue (for assertions)."""

    def __init__(self, inner: LanguageModel) -> None:
        self.inner, self.name, self.prompts = inner, inner.name, []
        self.supports = inner.supports  # what the wrapped model honours

    def stream(self, prompt: str, sampling: Sampling) -> Iterator[str]:
        self.prompts.append(prompt)
        return self.inner.stream(prompt, sampling)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def render_chat(self, messages: Sequence[Message]) -> str | None:
        return self.inner.render_chat(messages)


@pytest.fixture(scope="module")
def card_servers(smollm2, tmp_path_factory):
    """format -> (client, recording model): a server per prompt format, Yorick imported."""
    home = tmp_path_factory.mktemp("card_home")
    import_card(YORICK, CardStore(home))
    servers, found = [], {}
    for fmt in ("page", "chat", "script"):
        model = Recording(smollm2)
        state = ServeState(settings=Settings(home=home), model=model, prompt_format=fmt)
        server, url = start(create_app(state))
        servers.append(server)
        client = openai.OpenAI(base_url=url, api_key="unused", max_retries=0, timeout=ANSWER_S)
        found[fmt] = (client, model)
    yield found
    for server in servers:
        server.should_exit = True


def ask_yorick(card_servers, fmt: str, message: dict, stream: bool = False) -> str:
    """The prompt Yorick's reply to `message` was generated from, on the `fmt` server (the
    first one asked: a speech cut at the token limit runs on from that prompt plus its
    text, agents/character.py `finish_tokens`)."""
    client, model = card_servers[fmt]
    model.prompts.clear()
    reply = client.chat.completions.create(
        model="yorick", messages=[message], max_tokens=8, seed=3, stream=stream
    )
    if stream:
        assert "".join(c.choices[0].delta.content or "" for c in reply).strip()
    else:
        assert reply.choices[0].message.content.strip()
    assert model.prompts
    return model.prompts[0]


@pytest.mark.model
@pytest.mark.parametrize("stream", [False, True])
def test_an_imported_card_names_the_caller(card_servers, stream):
    named = {"role": "user", "name": "Horatio", "content": "Whose skull is this?"}
    prompt = ask_yorick(card_servers, "page", named, stream)
    assert "young Horatio on his back" in prompt  # the card's {{user}}: the caller
    assert "Horatio has just dug Yorick up" in prompt and "User" not in prompt
    anonymous = {"role": "user", "content": "Whose skull is this?"}
    assert "young User on his back" in ask_yorick(card_servers, "page", anonymous, stream)


@pytest.mark.model
def test_served_formats_are_the_prompts_asked_for(card_servers):
    said = {"role": "user", "name": "Horatio", "content": "Whose skull is this?"}
    page = ask_yorick(card_servers, "page", said)
    assert page.endswith("\nYORICK:") and "<|im_start|>" not in page
    script = ask_yorick(card_servers, "script", said)
    assert script.startswith("A scene from a play") and script.endswith("\nYORICK:")
    chat = ask_yorick(card_servers, "chat", said)
    assert chat.startswith(f"<|im_start|>system\n{CHAT_INSTRUCTION} You voice Yorick")
    assert "young Horatio on his back" in chat
    assert "Keep Yorick's reply under three sentences.<|im_end|>" in chat  # after the history
    for other in (page, script):  # no instructions on the page or in the script
        assert "talking skull" not in other and "three sentences" not in other


def test_card_greetings_name_the_caller(tmp_path):
    import_card(YORICK, CardStore(tmp_path))
    yorick = persona_for("yorick", tmp_path, "Horatio")
    assert yorick.first_mes.startswith(
        "*The skull grins up from the spade.* Well met again, Horatio!"
    )
    assert yorick.alternate_greetings[0].startswith("Alas, poor Horatio!")
    assert persona_for("card:yorick", tmp_path).first_mes.split("!")[0].endswith("User")


def test_format_option():
    assert check_format("Chat") == "chat" and check_format("page") == "page"
    run = subprocess.run(
        [sys.executable, "-m", "dramatis", "serve", "--format", "prose"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr == "error: --format 'prose': use page, auto, chat, script\n"


@pytest.mark.model
def test_serve_format_reaches_the_characters(client, smollm2, tmp_path):
    """`dramatis serve --format script` in a new process prompts as the script format does
    in process, and not as the page default does (same request, same model)."""
    port = free_port()
    env = {**os.environ, "DRAMATIS_HOME": str(tmp_path), "DRAMATIS_THREADS": "1"}
    cmd = [sys.executable, "-m", "dramatis", "serve", "--port", str(port), "--format", "script"]
    cmd += ["--model", "smollm2"]  # the in-process model below
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "script format" in proc.stdout.readline()
        served = openai.OpenAI(
            base_url=f"http://127.0.0.1:{port}/v1", api_key="x", max_retries=3, timeout=ANSWER_S
        )
        deadline = time.monotonic() + 120  # a new process imports and loads the model first
        while True:
            try:
                asked = served.chat.completions.create(
                    model="hamlet", messages=HAMLET_ASKED, max_tokens=8, seed=1
                )
                break
            except openai.APIConnectionError:
                assert time.monotonic() < deadline, "dramatis serve did not start"
                time.sleep(0.5)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    paged = client.chat.completions.create(model="hamlet", messages=HAMLET_ASKED, max_tokens=8)
    home = tmp_path / "in_process"
    state = ServeState(settings=Settings(home=home), model=smollm2, prompt_format="script")
    server, url = start(create_app(state))
    try:
        local = openai.OpenAI(base_url=url, api_key="x", max_retries=0, timeout=ANSWER_S)
        scripted = local.chat.completions.create(
            model="hamlet", messages=HAMLET_ASKED, max_tokens=8
        )
    finally:
        server.should_exit = True
    assert asked.usage.prompt_tokens == scripted.usage.prompt_tokens
    assert asked.usage.prompt_tokens != paged.usage.prompt_tokens
