"""Real clients against a real `dramatis serve` process on the bundled model: the
official openai client (models.retrieve, a streamed chat with its usage chunk, a text
completion), LangChain's ChatOpenAI in a multi-turn conversation, and a stream closed
after its first event that leaves the model free for the next request at once."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

openai = pytest.importorskip("openai")
langchain_openai = pytest.importorskip("langchain_openai")

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage  # noqa: E402

from dramatis.serve import ServeState  # noqa: E402

KEY = "sk-clients"
# How long a client waits for a reply: as long as the server may take before it answers
# by itself (its wait line, then its reply limit: 503 and 504 after them), and a margin,
# so that a busy machine slows these tests down instead of failing them.
ANSWER_S = ServeState.wait_s + ServeState.timeout_s + 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Base URL of `dramatis serve --model smollm2` in its own process, with a key."""
    home = tmp_path_factory.mktemp("clients_home")
    port = free_port()
    env = {**os.environ, "DRAMATIS_HOME": str(home), "DRAMATIS_THREADS": "1"}
    cmd = [sys.executable, "-m", "dramatis", "serve", "--port", str(port), "--model", "smollm2",
           "--api-key", KEY, "--max-tokens", "16"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while True:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "exited"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        assert time.monotonic() < deadline, "dramatis serve did not start"
        time.sleep(0.3)
    yield url
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture
def client(server):
    return openai.OpenAI(base_url=server, api_key=KEY, max_retries=0, timeout=ANSWER_S)


@pytest.mark.model
def test_openai_client_surface(client):
    hamlet = client.models.retrieve("hamlet")
    assert hamlet.id == "hamlet" and hamlet.owned_by == "dramatis"
    stream = client.chat.completions.create(
        model="hamlet",
        messages=[{"role": "user", "name": "Horatio", "content": "My lord, the ghost!"}],
        max_tokens=12,
        seed=2,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert len({c.created for c in chunks}) == 1
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0
    speech = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert speech.strip() and "HORATIO:" not in speech
    text = client.completions.create(
        model="hamlet", prompt="HORATIO: Hail to your lordship.\nHAMLET:", max_tokens=8, seed=1
    )
    assert text.choices[0].text.strip() and text.usage.prompt_tokens > 5
    assert text.choices[0].finish_reason in ("stop", "length")
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(
            model="hamlet",
            messages=[{"role": "user", "content": "Draw!"}],
            tools=[{"type": "function", "function": {"name": "draw", "parameters": {}}}],
        )
    assert err.value.param == "tools"


@pytest.mark.model
def test_langchain_chat_openai_multi_turn(server):
    chat = langchain_openai.ChatOpenAI(
        model="ophelia", base_url=server, api_key=KEY, max_tokens=14, max_retries=0,
        timeout=ANSWER_S, seed=3,
    )  # fmt: skip
    talk = [
        SystemMessage("A room in Polonius' house."),
        HumanMessage("Good Ophelia, how fares your father?", name="Laertes"),
    ]
    first = chat.invoke(talk)
    assert isinstance(first, AIMessage) and first.content.strip()
    talk += [first, HumanMessage("And what of the Prince Hamlet?", name="Laertes")]
    second = chat.invoke(talk)
    assert second.content.strip() and second.content != first.content
    assert "LAERTES:" not in second.content
    used = [m.usage_metadata["input_tokens"] for m in (first, second)]
    assert used[1] > used[0]  # the second prompt holds the first exchange


@pytest.mark.model
def test_a_closed_stream_frees_the_model(client, server):
    """A client closes a long stream after its first event: the next short request is as
    fast as one before it (before this, it waited for the whole cancelled reply)."""
    short = {"model": "hamlet", "prompt": "HORATIO: My lord!\nHAMLET:", "max_tokens": 4}
    client.completions.create(**short, seed=1)  # warm
    began = time.monotonic()
    client.completions.create(**short, seed=1)
    before = time.monotonic() - began
    long = client.completions.create(model="hamlet", prompt="HAMLET:", max_tokens=400,
                                     stream=True, seed=5, stop=[])  # fmt: skip
    next(iter(long))
    long.close()
    began = time.monotonic()
    client.completions.create(**short, seed=1)
    after = time.monotonic() - began
    assert after < 2 * before + 1.0, (before, after)  # 400 tokens take far longer
