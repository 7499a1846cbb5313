"""A backend for any OpenAI-compatible server (vLLM, llama.cpp's server, Ollama...).

`--model openai:http://127.0.0.1:8080/v1#smollm2` sends text completions to
POST {url}/completions with model "smollm2". A character's adapter is a model name on
the server, as multi-LoRA servers serve them (vLLM `--lora-modules hamlet-v3=PATH`):
`Sampling(adapter="hamlet-v3")` asks for model "hamlet-v3". Our agents format their own
prompts, so this backend has no chat template and they use the page format.

Of the optional sampling features it sends `min_tokens` (vLLM's name: vLLM holds back
stop strings too, llama-cpp-python's server only the end of text), `presence_penalty`
(the OpenAI API's own) and `repeat_penalty` (llama.cpp's and vLLM's names). Banned and
boosted words need the server's token ids, which the completions API does not give:
asking for them is a one-line error.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from dramatis.agents.model import Completion, LanguageModel, Sampling, check_sampling
from dramatis.agents.wrappers import Transient
from dramatis.core.errors import DramatisError

PREFIX = "openai:"
RETRY_STATUS = {408, 429, 500, 502, 503, 504}
CHARS_PER_TOKEN = 4  # no tokenizer on this side: an estimate, for history budgets only


@dataclass(frozen=True)
class Endpoint:
    base_url: str  # e.g. "http://127.0.0.1:8080/v1"
    model: str  # the model name the server knows
    api_key: str | None = None


def parse_endpoint(spec: str, api_key: str | None = None) -> Endpoint:
    """An endpoint from a model spec; the key from DRAMATIS_OPENAI_API_KEY when not given.

    parse_endpoint("openai:http://h:8080/v1#smollm2") -> Endpoint("http://h:8080/v1", "smollm2")
    """
    rest = spec[len(PREFIX) :] if spec.startswith(PREFIX) else spec
    url, _, model = rest.partition("#")
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")) or not model.strip():
        raise DramatisError(
            f"--model {spec!r}: write openai:http://HOST:PORT/v1#MODEL, "
            "e.g. openai:http://127.0.0.1:8080/v1#smollm2"
        )
    key = api_key or os.environ.get("DRAMATIS_OPENAI_API_KEY") or None
    return Endpoint(url, model.strip(), key)


def sse_texts(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """The JSON events of a server-sent event stream, up to `data: [DONE]`.

    ["data: {\\"a\\": 1}", "", "data: [DONE]"] -> [{"a": 1}]
    """
    for line in lines:
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            return
        if payload:
            yield json.loads(payload)


class OpenAIModel(LanguageModel):
    """Text completions from an OpenAI-compatible server, streamed or whole.

    Connection failures, timeouts and 408/429/5xx answers raise `Transient`: the
    backend does not retry itself; `open_model` wraps it in `agents.wrappers.Retrying`,
    which tries again with doubling waits (a stream only before its first piece).
    """

    supports = frozenset({"min_tokens", "presence_penalty", "repeat_penalty"})

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        timeout: float = 60.0,
        context_length: int = 2048,
        transport: Any = None,  # an httpx transport, for tests (httpx.MockTransport)
    ) -> None:
        import httpx

        self.endpoint = endpoint
        self.name = endpoint.model
        self._context_length = context_length
        self._served: dict[str, str] = {}  # adapter name -> the server's model name
        headers = {"Authorization": f"Bearer {endpoint.api_key}"} if endpoint.api_key else {}
        self._client = httpx.Client(
            base_url=endpoint.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            transport=transport,
        )
        self.last_model = ""  # the model name the server said it answered with, last call

    @property
    def context_length(self) -> int:
        return self._context_length

    @property
    def adapters(self) -> tuple[str, ...]:
        return tuple(self._served)

    def load_adapter(self, name: str, path: str = "", **options: object) -> None:
        """Name an adapter the server serves as a model (`served_as`, default `name`);
        nothing is uploaded: start the server with it (vLLM --lora-modules NAME=PATH)."""
        self._served[name] = str(options.get("served_as") or name)

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // CHARS_PER_TOKEN) if text else 0

    def _body(self, prompt: str, sampling: Sampling, stream: bool) -> dict[str, Any]:
        check_sampling(self, sampling)
        model = self.endpoint.model
        if sampling.adapter is not None:
            if sampling.adapter not in self._served:
                raise DramatisError(f"adapter {sampling.adapter!r} is not named on {self.name}")
            model = self._served[sampling.adapter]
        body: dict[str, Any] = {
            "model": model,
            "prompt": prompt,
            "max_tokens": sampling.max_tokens,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "stream": stream,
        }
        if sampling.stop:
            body["stop"] = list(sampling.stop)
        if sampling.seed is not None:
            body["seed"] = sampling.seed
        if sampling.min_tokens:
            body["min_tokens"] = sampling.min_tokens
        if sampling.presence_penalty:
            body["presence_penalty"] = sampling.presence_penalty
        if sampling.repeat_penalty != 1.0:  # llama.cpp and vLLM names; others ignore them
            body["repeat_penalty"] = body["repetition_penalty"] = sampling.repeat_penalty
        return body

    def _transient(self, why: str) -> Transient:
        return Transient(
            f"OpenAI-compatible server at {self.endpoint.base_url} {why}: start it, "
            "or check the URL in --model openai:URL#MODEL"
        )

    def _post(self, body: dict[str, Any]):  # -> an open httpx.Response
        import httpx

        try:
            request = self._client.build_request("POST", "/completions", json=body)
            response = self._client.send(request, stream=True)
        except httpx.TimeoutException:
            raise self._transient("did not answer in time") from None
        except httpx.TransportError as err:
            raise self._transient(f"is not reachable ({type(err).__name__})") from None
        if response.status_code in RETRY_STATUS:
            response.read()
            response.close()
            raise self._transient(f"answered HTTP {response.status_code}")
        if response.status_code >= 400:
            response.read()
            response.close()
            raise DramatisError(self._refusal(response, body["model"]))
        return response

    def _refusal(self, response, model: str) -> str:
        """One line for a 4xx answer, with the server's own message when it gave one."""
        try:
            detail = response.json().get("error", {}).get("message") or response.text
        except (ValueError, AttributeError):
            detail = response.text
        detail = " ".join(str(detail).split())[:200]
        return f"server {self.endpoint.base_url} refused model {model!r}: HTTP {response.status_code} {detail}"

    def stream(self, prompt: str, sampling: Sampling) -> Iterator[str]:
        import httpx

        response = self._post(self._body(prompt, sampling, stream=True))
        try:
            for event in sse_texts(response.iter_lines()):
                if "error" in event:
                    raise DramatisError(f"server {self.endpoint.base_url}: {event['error']}")
                self.last_model = event.get("model") or self.last_model
                text = (event.get("choices") or [{}])[0].get("text") or ""
                if text:
                    yield text
        except httpx.HTTPError as err:
            raise DramatisError(
                f"OpenAI-compatible server at {self.endpoint.base_url} broke off a stream "
                f"({type(err).__name__}): try again"
            ) from None
        finally:
            response.close()

    def generate(self, prompt: str, sampling: Sampling) -> Completion:
        response = self._post(self._body(prompt, sampling, stream=False))
        try:
            out = json.loads(response.read())
        except ValueError:
            raise DramatisError(f"server {self.endpoint.base_url} answered no JSON") from None
        finally:
            response.close()
        self.last_model = out.get("model") or ""
        choice = (out.get("choices") or [{}])[0]
        usage = out.get("usage") or {}
        return Completion(
            text=choice.get("text") or "",
            tokens=int(usage.get("completion_tokens") or self.count_tokens(choice.get("text", ""))),
            finish_reason=choice.get("finish_reason") or "stop",
        )

    def close(self) -> None:
        self._client.close()
