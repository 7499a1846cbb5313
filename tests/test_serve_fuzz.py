"""Hypothesis over `dramatis serve`'s request bodies (chat and text completions): any
JSON, well-formed or not, gets an answer or an OpenAI-shaped 4xx, never a 500 or a
traceback. Stand-in model, the real app in process (Starlette's TestClient)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("fastapi")

from starlette.testclient import TestClient  # noqa: E402

from dramatis.agents.fake_backend import FakeModel  # noqa: E402
from dramatis.core.settings import Settings  # noqa: E402
from dramatis.serve import ServeState, create_app  # noqa: E402

scalars = st.none() | st.booleans() | st.integers(-5, 5000) | st.floats(allow_nan=False)
texts = st.text(max_size=40) | st.sampled_from(["hamlet", "ophelia", "user", "system", ""])
values = st.recursive(scalars | texts, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(texts, inner, max_size=3), max_leaves=8)  # fmt: skip
message = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "assistant", "system", "tool", 7])},
    optional={"content": values, "name": values},
)
FIELDS = ["model", "messages", "prompt", "stream", "max_tokens", "temperature", "top_p",
          "n", "seed", "stop", "tools", "stream_options", "echo", "logprobs"]  # fmt: skip
bodies = st.fixed_dictionaries(
    {"model": st.sampled_from(["hamlet", "nobody", "card:x", "macbeth:banquo", 3])},
    optional={
        "messages": st.lists(message, max_size=3) | values,
        "prompt": texts | values,
        "stream": st.booleans(),
        "max_tokens": st.integers(-2, 5000) | values,
        "temperature": st.floats(-1, 3, allow_nan=False),
        "top_p": st.floats(-1, 2, allow_nan=False),
        "n": st.integers(-1, 6),
        "seed": st.integers(-(2**40), 2**40),
        "stop": values,
        "tools": values,
        "stream_options": values,
        "echo": values,
        "logprobs": values,
    },
)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    state = ServeState(settings=Settings(home=tmp_path_factory.mktemp("fuzz_home")),
                       model=FakeModel(), default_max_tokens=8, max_body=64 * 1024)  # fmt: skip
    with TestClient(create_app(state), raise_server_exceptions=False) as test_client:
        yield test_client


def check(response) -> None:
    assert response.status_code != 500, response.text
    if response.status_code >= 400:
        error = response.json()["error"]
        assert set(error) == {"message", "type", "param", "code"} and error["message"]
    elif response.headers["content-type"].startswith("text/event-stream"):
        assert response.text.rstrip().endswith("data: [DONE]")
        assert '"server_error"' not in response.text
    else:
        assert response.json()["choices"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(body=bodies, path=st.sampled_from(["/v1/chat/completions", "/v1/completions"]))
def test_any_body_gets_an_answer_or_a_clean_error(client, body, path):
    check(client.post(path, content=json.dumps(body)))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(raw=st.binary(max_size=200))
def test_any_bytes_get_a_clean_error(client, raw):
    check(client.post("/v1/chat/completions", content=raw))
