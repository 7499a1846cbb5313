"""The OpenAI surface and the bounds of `dramatis serve`, on a real uvicorn server over
loopback with stand-in models (fast): usage chunks, one `created` per reply, finish
reasons, /v1/models/{id}, /v1/completions, n, tools, the size limit, the wait line,
the time limit, the key on /docs, prompts that cannot fit, 500s in OpenAI's shape, and a
stream whose client leaves stopping its generation. tests/test_serve.py runs the same
server on the real model."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

uvicorn = pytest.importorskip("uvicorn")

from dramatis.agents.fake_backend import FakeModel  # noqa: E402
from dramatis.agents.model import Sampling  # noqa: E402
from dramatis.core.settings import Settings  # noqa: E402
from dramatis.personas.card_store import CardStore, import_card  # noqa: E402
from dramatis.serve import ServeState, create_app  # noqa: E402

KEY = "sk-surface"
AUTH = {"authorization": f"Bearer {KEY}"}
YORICK = Path(__file__).parent / "fixtures" / "cards" / "yorick_v2.json"
ASKED = [{"role": "user", "name": "Horatio", "content": "My lord, I saw your father."}]


class SlowModel(FakeModel):
    """One word each `delay` seconds, a sentence over and over, never a stop: a reply
    runs to its token limit. `calls` holds [max_tokens, words produced] per stream."""

    WORDS = ["Good", "my", "lord,", "the", "night", "is", "cold."]

    def __init__(self, delay: float = 0.03) -> None:
        super().__init__()
        self.delay = delay
        self.calls: list[list[int]] = []

    def stream(self, prompt: str, sampling: Sampling) -> Iterator[str]:
        call = [sampling.max_tokens, 0]
        self.calls.append(call)
        for i in range(sampling.max_tokens):
            time.sleep(self.delay)
            call[1] += 1
            yield " " + self.WORDS[i % len(self.WORDS)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def serve(tmp_path):
    """serve(model, **options) -> base URL of a running server; all stopped at the end."""
    servers = []

    def run(model, **options) -> str:
        state = ServeState(settings=Settings(home=tmp_path), model=model, **options)
        port = free_port()
        config = uvicorn.Config(create_app(state), host="127.0.0.1", port=port,
                                log_level="critical")  # fmt: skip
        server = uvicorn.Server(config)
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.02)
        servers.append(server)
        return f"http://127.0.0.1:{port}/v1"

    yield run
    for server in servers:
        server.should_exit = True


def events(response: httpx.Response) -> list[dict]:
    """The JSON bodies of a server-sent event stream, up to [DONE]."""
    out = []
    for line in response.iter_lines():
        if line.startswith("data: ") and line != "data: [DONE]":
            out.append(json.loads(line[6:]))
    return out


def test_stream_usage_created_and_finish(serve):
    url = serve(FakeModel(["Good my lord, I will watch tonight. Farewell."] * 3))
    body = {"model": "hamlet", "messages": ASKED, "stream": True, "max_tokens": 40,
            "stream_options": {"include_usage": True}}  # fmt: skip
    with httpx.stream("POST", f"{url}/chat/completions", json=body, timeout=30) as r:
        chunks = events(r)
    assert {c["created"] for c in chunks} == {chunks[0]["created"]}
    assert len({c["id"] for c in chunks}) == 1
    *speech, last = chunks
    assert last["choices"] == [] and last["usage"]["completion_tokens"] > 0
    assert last["usage"]["prompt_tokens"] > 20
    assert all(c["usage"] is None for c in speech)
    assert speech[-1]["choices"][0]["finish_reason"] == "stop"  # a whole sentence
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in speech)
    assert text.endswith("Farewell.")


def test_finish_reason_length_only_when_cut(serve):
    url = serve(FakeModel(["Good my lord, I will watch and"], stops=False))
    body = {"model": "hamlet", "messages": ASKED, "max_tokens": 3}
    reply = httpx.post(f"{url}/chat/completions", json=body, timeout=30).json()
    choice = reply["choices"][0]
    # A whole sentence may come back after a cut; "length" only if it stops mid-clause.
    from dramatis.agents.guard import ends_sentence

    assert choice["finish_reason"] == ("stop" if ends_sentence(choice["message"]["content"])
                                       else "length")  # fmt: skip


def test_models_retrieve_and_unknown_lists_cards(serve, tmp_path):
    import_card(YORICK, CardStore(tmp_path))
    url = serve(FakeModel())
    assert httpx.get(f"{url}/models/hamlet", timeout=60).json()["name"] == "Hamlet"
    assert httpx.get(f"{url}/models/yorick", timeout=60).json()["name"] == "Yorick"
    banquo = httpx.get(f"{url}/models/macbeth:banquo", timeout=60).json()
    assert banquo["id"] == "macbeth:banquo" and banquo["play"] == "macbeth"
    missing = httpx.get(f"{url}/models/hamlet:nobody", timeout=120)  # one play searched
    assert missing.status_code == 404
    error = missing.json()["error"]
    assert error["code"] == "model_not_found" and "yorick" in error["message"]
    assert "hamlet" in error["message"]


def test_a_served_card_reads_the_world_info_its_card_links(serve, tmp_path):
    """A card whose extensions.world names an imported world-info file: its served
    replies are written from prompts holding the entries the talk brings in, placed by
    their position (here 0: above the list of persons)."""
    from dramatis.personas.world_info import LoreStore, import_world

    card = json.loads(YORICK.read_text(encoding="utf-8"))
    card["data"]["extensions"]["world"] = "Churchyard"
    linked = tmp_path / "yorick_linked.json"
    linked.write_text(json.dumps(card), encoding="utf-8")
    import_card(linked, CardStore(tmp_path))
    world = {"entries": {"0": {"uid": 0, "key": ["spade"], "content": "The sexton's spade is blunt.",
                               "position": 0, "order": 100}}}  # fmt: skip
    (tmp_path / "churchyard.json").write_text(json.dumps(world), encoding="utf-8")
    import_world(tmp_path / "churchyard.json", LoreStore(tmp_path))
    model = FakeModel()
    url = serve(model)
    said = [{"role": "user", "name": "Horatio", "content": "Mind the spade, old skull."}]
    body = {"model": "yorick", "messages": said, "max_tokens": 8, "seed": 1}
    assert httpx.post(f"{url}/chat/completions", json=body, timeout=60).status_code == 200
    assert model.prompts[0].startswith("[The sexton's spade is blunt.]\nYORICK, ")
    model.prompts.clear()
    quiet = [{"role": "user", "name": "Horatio", "content": "Good night."}]
    httpx.post(f"{url}/chat/completions", json={**body, "messages": quiet}, timeout=60)
    assert model.prompts and "spade is blunt" not in model.prompts[0]


def test_text_completions(serve):
    url = serve(FakeModel(["the king is dead", "long live the king"]))
    body = {"model": "hamlet", "prompt": "HORATIO: News?\nHAMLET:", "max_tokens": 30}
    whole = httpx.post(f"{url}/completions", json=body, timeout=30).json()
    assert whole["object"] == "text_completion"
    assert whole["choices"][0]["text"] == "the king is dead"
    assert whole["choices"][0]["finish_reason"] == "stop"
    assert whole["usage"]["prompt_tokens"] == 3
    with httpx.stream("POST", f"{url}/completions", json={**body, "stream": True},
                      timeout=30) as r:  # fmt: skip
        chunks = events(r)
    assert "".join(c["choices"][0]["text"] for c in chunks) == "long live the king"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    cut = httpx.post(f"{url}/completions", json={**body, "max_tokens": 2}).json()
    assert cut["choices"][0]["finish_reason"] == "length"
    assert cut["choices"][0]["text"].split() == cut["choices"][0]["text"].split()[:2]
    bad = httpx.post(f"{url}/completions", json={**body, "logprobs": 2})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "logprobs"


def test_n_choices_and_refusals(serve):
    url = serve(FakeModel())
    body = {"model": "ophelia", "messages": ASKED, "max_tokens": 20, "seed": 5}
    two = httpx.post(f"{url}/chat/completions", json={**body, "n": 2}, timeout=30).json()
    assert [c["index"] for c in two["choices"]] == [0, 1]
    texts = [c["message"]["content"] for c in two["choices"]]
    assert all(texts) and texts[0] != texts[1]  # two draws, two seeds
    with httpx.stream("POST", f"{url}/chat/completions", json={**body, "n": 2, "stream": True},
                      timeout=30) as r:  # fmt: skip
        finished = [c["choices"][0]["index"] for c in events(r) if c["choices"][0]["finish_reason"]]
    assert finished == [0, 1]
    many = httpx.post(f"{url}/chat/completions", json={**body, "n": 9})
    assert many.status_code == 400 and many.json()["error"]["param"] == "n"
    tool = {"type": "function", "function": {"name": "draw_sword", "parameters": {}}}
    tools = httpx.post(f"{url}/chat/completions", json={**body, "tools": [tool]})
    assert tools.status_code == 400
    assert tools.json()["error"]["param"] == "tools" and "call no tools" in tools.text


def test_body_limit_and_bad_json(serve):
    url = serve(FakeModel(), max_body=4096)
    big = {"model": "hamlet", "messages": [{"role": "user", "content": "x" * 5000}]}
    too = httpx.post(f"{url}/chat/completions", json=big)
    assert too.status_code == 413 and too.json()["error"]["code"] == "request_too_large"

    def chunked() -> Iterator[bytes]:  # no content-length: counted as it arrives
        yield json.dumps(big).encode()

    assert httpx.post(f"{url}/chat/completions", content=chunked()).status_code == 413
    bad = httpx.post(f"{url}/chat/completions", content=b"{not json",
                     headers={"content-type": "application/json"})  # fmt: skip
    assert bad.status_code == 400 and bad.json()["error"]["param"] is None
    assert "not valid JSON" in bad.json()["error"]["message"]


def test_prompt_that_cannot_fit_is_400(serve):
    url = serve(FakeModel())
    huge = {"model": "hamlet", "max_tokens": 100,
            "messages": [{"role": "user", "name": "word " * 3000, "content": "Hail."}]}  # fmt: skip
    long_reply = {"model": "hamlet", "messages": ASKED, "max_tokens": 2040}
    for body in (huge, long_reply):
        for stream in (False, True):
            r = httpx.post(f"{url}/chat/completions", json={**body, "stream": stream}, timeout=30)
            assert r.status_code == 400, r.text
            assert r.json()["error"]["code"] == "context_length_exceeded"
            assert "maximum context length is 2048 tokens" in r.json()["error"]["message"]
    prompt = {"model": "hamlet", "prompt": "word " * 2040, "max_tokens": 20}
    r = httpx.post(f"{url}/completions", json=prompt, timeout=30)
    assert r.status_code == 400 and r.json()["error"]["param"] == "prompt"


def test_key_guards_every_path(serve):
    url = serve(FakeModel(), api_key=KEY)
    root = url.removesuffix("/v1")
    for path in ("/docs", "/openapi.json", "/v1/models", "/v1/models/hamlet"):
        refused = httpx.get(root + path)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_api_key"
        assert httpx.get(root + path, headers=AUTH).status_code == 200


def test_errors_are_openai_shaped_even_for_bugs(serve, monkeypatch):
    class Broken(FakeModel):
        def count_tokens(self, text: str) -> int:
            raise RuntimeError("tokenizer fell over")

    url = serve(Broken())
    r = httpx.post(f"{url}/chat/completions", json={"model": "hamlet", "messages": ASKED})
    assert r.status_code == 500 and r.json()["error"]["type"] == "server_error"
    assert "tokenizer fell over" in r.json()["error"]["message"]
    import dramatis.serve as serve_module

    monkeypatch.setattr(serve_module, "cast_personas", lambda home: 1 / 0)
    bug = httpx.get(f"{url}/models")
    assert bug.status_code == 500 and "ZeroDivisionError" in bug.json()["error"]["message"]
    lost = httpx.get(f"{url}/nowhere")
    assert lost.status_code == 404 and lost.json()["error"]["type"] == "invalid_request_error"


def test_wait_line_is_bounded(serve):
    url = serve(SlowModel(delay=0.02), queue=1, wait_s=30)
    body = {"model": "hamlet", "prompt": "HAMLET:", "max_tokens": 30}

    def ask(_: int) -> httpx.Response:
        return httpx.post(f"{url}/completions", json=body, timeout=60)

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(ask, range(4)))
    codes = sorted(a.status_code for a in answers)
    assert codes.count(200) >= 2 and 429 in codes, codes
    refused = next(a for a in answers if a.status_code == 429)
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["error"]["code"] == "server_busy"


def test_a_long_wait_is_503(serve):
    url = serve(SlowModel(delay=0.05), queue=4, wait_s=0.3)
    body = {"model": "hamlet", "prompt": "HAMLET:", "max_tokens": 20}
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(httpx.post, f"{url}/completions", json=body, timeout=60)
        time.sleep(0.2)
        second = pool.submit(httpx.post, f"{url}/completions", json=body, timeout=60)
        assert first.result().status_code == 200
        late = second.result()
    assert late.status_code == 503 and "retry-after" in late.headers


def test_time_limit_is_504(serve):
    url = serve(SlowModel(delay=0.05), timeout_s=0.5)
    body = {"model": "hamlet", "messages": ASKED, "max_tokens": 200}
    began = time.monotonic()
    r = httpx.post(f"{url}/chat/completions", json=body, timeout=60)
    assert r.status_code == 504 and r.json()["error"]["code"] == "timeout"
    assert time.monotonic() - began < 3


@pytest.mark.parametrize("stream", [True, False])
def test_a_client_that_leaves_stops_generation(serve, stream):
    model = SlowModel(delay=0.03)
    url = serve(model)
    short = {"model": "hamlet", "messages": ASKED, "max_tokens": 4, "seed": 1}
    httpx.post(f"{url}/chat/completions", json=short, timeout=60)  # warm: the play's lines
    began = time.monotonic()
    assert httpx.post(f"{url}/chat/completions", json=short, timeout=60).status_code == 200
    before = time.monotonic() - began
    long = {**short, "max_tokens": 1000, "stream": stream}  # 30 s, were it not stopped
    if stream:
        with httpx.stream("POST", f"{url}/chat/completions", json=long, timeout=60) as r:
            for line in r.iter_lines():
                delta = json.loads(line[6:])["choices"][0]["delta"] if line[6:7] == "{" else {}
                if delta.get("content"):
                    break  # the first piece of speech: leave
            seen = [c for c in model.calls if c[0] == 1000][0][1]
    else:
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(f"{url}/chat/completions", json=long, timeout=0.5)
        seen = [c for c in model.calls if c[0] == 1000][0][1]
    began = time.monotonic()
    assert httpx.post(f"{url}/chat/completions", json=short, timeout=60).status_code == 200
    after = time.monotonic() - began
    produced = [c[1] for c in model.calls if c[0] == 1000]
    assert produced == [produced[0]] and produced[0] <= seen + 2  # a token or two more
    assert after < 2 * before + 3, (before, after)  # not the 30 s the rest would take
