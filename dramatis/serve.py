"""`dramatis serve`: the characters as OpenAI-compatible chat models (FastAPI + uvicorn).

GET /v1/models lists the cast (the default cast and imported cards); POST
/v1/chat/completions answers as the character named in `model`, streamed (server-sent
events) or whole. The request's messages become the scene the character saw: user
messages are spoken by the message's `name` (default "User"), assistant messages by the
character, system messages set the scene. An imported card's {{user}} is the caller,
the last user message's `name`. Errors have OpenAI's shape:
{"error": {"message", "type", "param", "code"}}.
"""

from __future__ import annotations

import json
import queue
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from dramatis.agents.catalog import ModelSpec, parse_model
from dramatis.agents.character import AgentSettings, CharacterAgent, Utterance
from dramatis.agents.model import LanguageModel
from dramatis.agents.turn import Turn, make_turn
from dramatis.core.errors import DramatisError
from dramatis.core.settings import Settings
from dramatis.memory.voice import PlayVoices
from dramatis.personas import Persona, find_persona, load_cast
from dramatis.personas.card_store import CardStore, card_key

DEFAULT_USER = "User"
# System messages become the scene's setting. Clients like SillyTavern send their whole
# card and world info there; the small model's context keeps only the start of it.
SETTING_CHARS = 600


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None

    def text(self) -> str:
        """The message text; of a list of content parts, the text parts joined."""
        if isinstance(self.content, list):
            return "".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    """The fields we read; clients (SillyTavern) send more, which are accepted and unused."""

    model_config = ConfigDict(extra="allow")

    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    max_tokens: int | None = Field(default=None, ge=1, le=4096)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=4096)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    seed: int | None = None


class OpenAIError(Exception):
    """An error answered in OpenAI's shape."""

    def __init__(
        self,
        status: int,
        message: str,
        kind: str,
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.code, self.param = (
            status,
            message,
            kind,
            code,
            param,
        )

    def response(self) -> JSONResponse:
        body = {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}
        return JSONResponse({"error": body}, status_code=self.status)


@dataclass
class ServeState:
    settings: Settings
    model: LanguageModel
    api_key: str | None = None
    adapters: bool = False
    default_max_tokens: int = 120
    prompt_format: str = AgentSettings.prompt_format  # page | auto | chat | script
    _adapter_of: dict[str, str | None] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    model_spec: ModelSpec = field(init=False)  # settings.model, parsed once

    def __post_init__(self) -> None:
        self.model_spec = parse_model(self.settings.model)

    def adapter(self, persona: Persona) -> str | None:
        """The character's active LoRA adapter, loaded on first use (with --adapters)."""
        if not self.adapters:
            return None
        with self._lock:
            if persona.name not in self._adapter_of and self.model_spec.served:
                from dramatis.training.serving import name_served_adapters

                chosen, _ = name_served_adapters(self.model, [persona], self.settings)
                self._adapter_of.update(chosen)
            if persona.name not in self._adapter_of:
                from dramatis.training.serving import mount_adapters

                path = getattr(self.model, "path", None) or self.model_spec.gguf(
                    self.settings.cache_dir
                )
                chosen, _ = mount_adapters(self.model, [persona], self.settings, path)
                self._adapter_of.update(chosen)
            return self._adapter_of[persona.name]


def cast_personas(home: Path) -> list[Persona]:
    """Everyone /v1/models lists: the default cast, then the cards imported into `home`."""
    return [*load_cast().personas.values(), *CardStore(home).personas()]


def model_rows(personas: list[Persona]) -> list[dict[str, Any]]:
    """/v1/models rows: Hamlet -> {"id": "hamlet", "object": "model", ...}; an imported
    card whose name a cast member already has is "card:NAME"."""
    rows: list[dict[str, Any]] = []
    for persona in personas:
        key = card_key(persona.name)
        taken = any(r["id"] == key for r in rows)
        rows.append(model_entry(persona, f"card:{key}" if taken else key))
    return rows


def model_entry(persona: Persona, model_id: str) -> dict[str, Any]:
    """One /v1/models row."""
    return {
        "id": model_id,
        "object": "model",
        "created": 0,
        "owned_by": "dramatis",
        "name": persona.name,
        "play": persona.play,
    }


def caller(request: ChatRequest) -> str:
    """Who talks to the character: the `name` of the last user message that has one,
    else "User". An imported card's {{user}} is this name."""
    users = [m.name for m in request.messages if m.role == "user" and m.name]
    return users[-1] if users else DEFAULT_USER


def conversation(request: ChatRequest, persona: Persona) -> tuple[list[Turn], str, str]:
    """(turns, setting, user name) from OpenAI messages: who said what, in order."""
    users = [m.name for m in request.messages if m.role == "user" and m.name]
    user = caller(request)
    cast = [persona.name, *dict.fromkeys(users or [user])]
    turns: list[Turn] = []
    setting: list[str] = []
    for m in request.messages:
        if m.role in ("system", "developer"):
            setting.append(m.text())
        elif m.role in ("user", "assistant") and m.text().strip():
            who = persona.name if m.role == "assistant" else (m.name or user)
            turns.append(make_turn(len(turns), who, m.text(), source="human", present=cast))
    scene = " ".join(" ".join(setting).split()) or persona.scenario or "A conversation."
    return turns, clip(scene, SETTING_CHARS), user


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, at the last sentence end when there is one.

    clip("One. Two three.", 10) -> "One."
    """
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    return cut[: end + 1] if end > 0 else cut


def chunk(rid: str, model: str, delta: dict[str, Any], finish: str | None = None) -> str:
    """One server-sent event of a streamed chat completion."""
    body = {
        "id": rid,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def finish_reason(utterance: Utterance, max_tokens: int) -> str:
    return "length" if utterance.tokens >= max_tokens else "stop"


def check_key(request: Request, api_key: str | None) -> None:
    """401 unless the bearer token is `api_key` (no key set: everyone may ask)."""
    if api_key is None:
        return
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not secrets.compare_digest(given.encode(), api_key.encode()):
        raise OpenAIError(
            401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
        )


def persona_for(model_id: str, home: Path, user: str = DEFAULT_USER) -> Persona:
    """The character a request names: the cast, the cards imported into `home` (their
    {{user}} read as `user`), then the plays ("macbeth:banquo"); a 404 in OpenAI's
    shape if there is none."""
    store = CardStore(home)
    is_card = model_id.lower().startswith("card:")
    try:
        found = None if is_card else load_cast().find(model_id)
        name = model_id.split(":", 1)[-1] if is_card else model_id
        found = found or store.persona(name, user)
        return found or find_persona(model_id, home=home)
    except DramatisError as err:
        raise OpenAIError(
            404,
            f"The model {model_id!r} does not exist: {err}",
            "invalid_request_error",
            "model_not_found",
            "model",
        ) from None


def make_agent(
    state: ServeState, request: ChatRequest, persona: Persona, user: str
) -> CharacterAgent:
    max_tokens = request.max_completion_tokens or request.max_tokens or state.default_max_tokens
    defaults = AgentSettings()
    agent_settings = AgentSettings(
        max_tokens=max_tokens,
        temperature=defaults.temperature if request.temperature is None else request.temperature,
        top_p=request.top_p or defaults.top_p,
        max_lines=8,
        prompt_format=state.prompt_format,
    )
    return CharacterAgent(
        persona,
        state.model,
        cast=[persona.name, user],
        settings=agent_settings,
        adapter=state.adapter(persona),
        voice=PlayVoices({persona.name: persona.play}),  # real exchanges on the page
    )


def completion_body(
    rid: str, model: str, utterance: Utterance, max_tokens: int, prompt_tokens: int
) -> dict[str, Any]:
    return {
        "id": rid,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": utterance.text},
                "finish_reason": finish_reason(utterance, max_tokens),
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": utterance.tokens,
            "total_tokens": prompt_tokens + utterance.tokens,
        },
    }


def stream_events(
    agent: CharacterAgent, turns: list[Turn], setting: str, seed: int, rid: str, model: str
) -> Iterator[str]:
    """SSE chunks as the character speaks: the text grows piece by piece; a piece the
    cleaner takes back (a cut-off heading) is never sent, the final text tops it up."""
    pieces: queue.Queue[tuple[str, Any]] = queue.Queue()

    def run() -> None:
        try:
            said = agent.speak(turns, setting, seed=seed, on_text=lambda t: pieces.put(("text", t)))
            pieces.put(("done", said))
        except Exception as err:  # reported in the stream, not lost in a thread
            pieces.put(("error", err))

    threading.Thread(target=run, daemon=True).start()
    yield chunk(rid, model, {"role": "assistant", "content": ""})
    sent = ""
    while True:
        kind, value = pieces.get()
        if kind == "error":
            error = {"message": str(value), "type": "server_error", "param": None, "code": None}
            yield f"data: {json.dumps({'error': error})}\n\n"
            break
        text = value if kind == "text" else value.text
        if text.startswith(sent) and len(text) > len(sent):
            yield chunk(rid, model, {"content": text[len(sent) :]})
            sent = text
        if kind == "done":
            yield chunk(rid, model, {}, finish_reason(value, agent.settings.max_tokens))
            break
    yield "data: [DONE]\n\n"


def create_app(state: ServeState) -> FastAPI:
    """The FastAPI app over one loaded model; `state` holds the model and the options."""
    app = FastAPI(title="dramatis", description="Shakespeare characters as chat models.")

    @app.exception_handler(OpenAIError)
    async def openai_error(_: Request, err: OpenAIError) -> JSONResponse:
        return err.response()

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, err: RequestValidationError) -> JSONResponse:
        first = err.errors()[0] if err.errors() else {"loc": (), "msg": "invalid request"}
        param = ".".join(str(p) for p in first["loc"] if p != "body") or None
        message = f"{param}: {first['msg']}" if param else str(first["msg"])
        return OpenAIError(400, message, "invalid_request_error", None, param).response()

    @app.exception_handler(DramatisError)
    async def model_error(_: Request, err: DramatisError) -> JSONResponse:
        return OpenAIError(500, str(err), "server_error").response()

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, err: HTTPException) -> JSONResponse:
        kind = "invalid_request_error" if err.status_code < 500 else "server_error"
        return OpenAIError(err.status_code, str(err.detail), kind).response()

    @app.get("/v1/models")
    def list_models(request: Request) -> dict[str, Any]:
        check_key(request, state.api_key)
        return {"object": "list", "data": model_rows(cast_personas(state.settings.home))}

    @app.post("/v1/chat/completions", response_model=None)
    def chat(request: Request, body: ChatRequest) -> dict[str, Any] | StreamingResponse:
        check_key(request, state.api_key)
        persona = persona_for(body.model, state.settings.home, caller(body))
        turns, setting, user = conversation(body, persona)
        agent = make_agent(state, body, persona, user)
        seed = body.seed if body.seed is not None else secrets.randbelow(2**31)
        rid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        if body.stream:
            events = stream_events(agent, turns, setting, seed, rid, body.model)
            return StreamingResponse(events, media_type="text/event-stream")
        prompt, _ = agent.prompt(turns, setting)
        said = agent.speak(turns, setting, seed=seed)
        prompt_tokens = state.model.count_tokens(prompt)
        return completion_body(rid, body.model, said, agent.settings.max_tokens, prompt_tokens)

    return app
