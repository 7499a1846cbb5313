"""`dramatis serve`: the characters as OpenAI-compatible models (FastAPI + uvicorn).

GET /v1/models lists the cast (the default cast and imported cards), GET /v1/models/{id}
one of them. POST /v1/chat/completions answers as the character named in `model`,
streamed (server-sent events) or whole: the request's messages become the scene the
character saw (user messages spoken by the message's `name`, default "User"; assistant
messages by the character; system messages set the scene). An imported card's {{user}}
is the caller, the last user message's `name`. POST /v1/completions continues a prompt
as it stands (Text Completion clients build their own), with the named character's
adapter under --adapters. `n` up to MAX_CHOICES draws that many replies; `tools` are
refused. Every error has OpenAI's shape, {"error": {"message", "type", "param",
"code"}}; the bounds (key, body size, wait line, time limit) live in serve_limits.py, the
answers' shapes in serve_replies.py.
"""

from __future__ import annotations

import secrets
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from dramatis.agents.catalog import ModelSpec, parse_model
from dramatis.agents.character import AgentSettings, CharacterAgent, Utterance
from dramatis.agents.model import Completion, LanguageModel, Sampling
from dramatis.agents.turn import Turn, make_turn
from dramatis.core.errors import DramatisError
from dramatis.core.settings import Settings
from dramatis.memory.voice import PlayVoices
from dramatis.personas import Persona, find_persona, load_cast
from dramatis.personas.card_store import CardStore, card_key
from dramatis.personas.world_info import LoreStore, books_for
from dramatis.serve_limits import Gate, Guard, Job, OpenAIError
from dramatis.serve_replies import Reply, next_event, stream_reply, whole_reply

DEFAULT_USER = "User"
# System messages become the scene's setting. Clients like SillyTavern send their whole
# card and world info there; the small model's context keeps only the start of it.
SETTING_CHARS = 600
MAX_CHOICES = 4  # `n`: replies are drawn one after another on one model
MAX_REPLY_TOKENS = 4096


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


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class ReplyOptions(BaseModel):
    """What chat and text completions share. Clients (SillyTavern) send more fields,
    which are accepted and unused."""

    model_config = ConfigDict(extra="allow")

    model: str
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(default=None, ge=1, le=MAX_REPLY_TOKENS)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    seed: int | None = None
    n: int = Field(default=1, ge=1, le=MAX_CHOICES)

    def seeds(self) -> list[int]:
        """One sampling seed per choice: the request's seed, then the next ones."""
        first = self.seed if self.seed is not None else secrets.randbelow(2**31)
        return [first + i for i in range(self.n)]

    def wants_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)


class ChatRequest(ReplyOptions):
    messages: list[ChatMessage] = Field(min_length=1)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=MAX_REPLY_TOKENS)
    tools: list[Any] | None = None
    functions: list[Any] | None = None


class CompletionRequest(ReplyOptions):
    prompt: str | list[str]
    stop: str | list[str] | None = None
    echo: bool = False
    logprobs: int | None = None
    suffix: str | None = None

    def text(self) -> str:
        """The one prompt; a list of several is refused (one prompt per request)."""
        if isinstance(self.prompt, str):
            return self.prompt
        if len(self.prompt) != 1:
            raise OpenAIError(400, "prompt: send one prompt per request (a string)",
                              "invalid_request_error", "unsupported_value", "prompt")  # fmt: skip
        return self.prompt[0]


@dataclass
class ServeState:
    settings: Settings
    model: LanguageModel
    api_key: str | None = None
    adapters: bool = False
    voice_scale: float = 0.0  # the stage voice stacked under every character (0: none)
    default_max_tokens: int = 120
    prompt_format: str = AgentSettings.prompt_format  # page | auto | chat | script
    max_body: int = 1 << 20  # bytes of one request body (413 above)
    queue: int = 8  # requests that may wait for the model (429 beyond)
    wait_s: float = 60.0  # longest wait in that line (503 after)
    timeout_s: float = 300.0  # longest reply, prompt and generation (504 after)
    _adapter_of: dict[str, str | None] = field(default_factory=dict)
    model_spec: ModelSpec = field(init=False)  # settings.model, parsed once

    def __post_init__(self) -> None:
        self.model_spec = parse_model(self.settings.model)

    def adapter(self, persona: Persona) -> str | None:
        """The character's active LoRA adapter, loaded on first use (with --adapters).
        Called on the one generation thread the gate lets run."""
        if not self.adapters:
            return None
        if persona.name not in self._adapter_of and self.model_spec.served:
            from dramatis.training.serving import name_served_adapters

            chosen, _ = name_served_adapters(self.model, [persona], self.settings)
            self._adapter_of.update(chosen)
        if persona.name not in self._adapter_of:
            from dramatis.training.serving import mount_adapters

            path = getattr(self.model, "path", None) or self.model_spec.gguf(
                self.settings.cache_dir
            )
            chosen, notes = mount_adapters(
                self.model, [persona], self.settings, path, self.voice_scale
            )
            for note in notes:  # an adapter trained on another voice setting still speaks
                if note.startswith("warning:"):
                    print(f"dramatis: {note}", file=sys.stderr, flush=True)
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


def persona_for(model_id: str, home: Path, user: str = DEFAULT_USER) -> Persona:
    """The character a request names: the cast, the cards imported into `home` (their
    {{user}} read as `user`), then the plays ("macbeth:banquo"); a 404 in OpenAI's
    shape, listing every model served here, if there is none."""
    store = CardStore(home)
    is_card = model_id.lower().startswith("card:")
    try:
        found = None if is_card else load_cast().find(model_id)
        name = model_id.split(":", 1)[-1] if is_card else model_id
        found = found or store.persona(name, user)
        return found or find_persona(model_id, home=home)
    except DramatisError as err:
        known = ", ".join(row["id"] for row in model_rows(cast_personas(home)))
        raise OpenAIError(
            404,
            f"The model {model_id!r} does not exist ({err}). Models here: {known}; "
            "or PLAY:CHARACTER for anyone in the plays.",
            "invalid_request_error",
            "model_not_found",
            "model",
        ) from None


def refuse_unsupported(body: ChatRequest) -> None:
    """400 for what a character cannot do: call tools."""
    for param in ("tools", "functions"):
        if getattr(body, param):
            raise OpenAIError(
                400,
                f"{param}: the characters speak in character and call no tools or "
                f"functions; send the request without `{param}`",
                "invalid_request_error",
                "unsupported_parameter",
                param,
            )


def check_fits(prompt_tokens: int, reply_tokens: int, context: int, param: str) -> None:
    """400 context_length_exceeded when the prompt and the longest reply overflow."""
    if prompt_tokens + reply_tokens > context:
        raise OpenAIError(
            400,
            f"This model's maximum context length is {context} tokens; the prompt takes "
            f"{prompt_tokens} and the reply up to {reply_tokens}: shorten the {param} or "
            "ask for fewer max_tokens",
            "invalid_request_error",
            "context_length_exceeded",
            param,
        )


def agent_for(
    state: ServeState, body: ChatRequest, persona: Persona, user: str, model: LanguageModel
) -> CharacterAgent:
    asked = body.max_completion_tokens or body.max_tokens
    max_tokens = asked or state.default_max_tokens
    defaults = AgentSettings()
    agent_settings = AgentSettings(
        max_tokens=max_tokens,
        # A client's own max_tokens is the reply's limit; without one, the character's
        # drawn length is (agents/length.py), as in a staged scene.
        length_ceiling=0.0 if asked else defaults.length_ceiling,
        temperature=defaults.temperature if body.temperature is None else body.temperature,
        top_p=body.top_p or defaults.top_p,
        max_lines=8,
        prompt_format=state.prompt_format,
        # Who is present is the client's to say (the user's role may be in its text
        # alone), so a name the character calls on is not redrawn; nor one of another
        # play or a name of no play, which the client's world (its system text is clipped)
        # may hold; nor a title, since the one spoken to may be the user.
        address_present=False,
        no_strangers=False,
        fit_titles=False,
        no_invented=False,
    )
    return CharacterAgent(
        persona,
        model,
        cast=[persona.name, user],
        settings=agent_settings,
        adapter=state.adapter(persona),
        voice=PlayVoices({persona.name: persona.play}),  # real exchanges on the page
        lore=books_for(persona, "", LoreStore(state.settings.home)),  # its card's world
    )


def speak_work(
    state: ServeState, body: ChatRequest, persona: Persona
) -> Callable[[Job], list[tuple[Utterance, int]]]:
    """The generation of a chat completion, run on the job's thread: ("ready", prompt
    tokens) once the prompt is known to fit, ("text", (i, text so far)) while choice i
    streams, ("said", (i, utterance, max tokens)) when it is whole."""
    turns, setting, user = conversation(body, persona)

    def work(job: Job) -> list[tuple[Utterance, int]]:
        agent = agent_for(state, body, persona, user, job.model)
        limit = agent.settings.max_tokens
        reply = limit + agent.settings.finish_tokens  # a cut speech runs on to its end
        context = state.model.context_length
        if turns:  # the speech to answer must fit whole, whatever else is cut
            last = f"{turns[-1]['speaker']}: {turns[-1]['text']}"
            check_fits(state.model.count_tokens(last), reply, context, "messages")
        seeds = body.seeds()  # drawn once: the lore of a choice follows its seed
        prompt, _ = agent.prompt(turns, setting, seeds[0])
        prompt_tokens = state.model.count_tokens(prompt)
        check_fits(prompt_tokens, reply, context, "messages")
        job.put("ready", prompt_tokens)
        said = []
        for i, seed in enumerate(seeds):
            on_text = (lambda t, i=i: job.put("text", (i, t))) if body.stream else None
            utterance = agent.speak(turns, setting, seed=seed, on_text=on_text)
            job.put("said", (i, utterance, limit))
            said.append((utterance, limit))
        return said

    return work


def continue_work(
    state: ServeState, body: CompletionRequest, persona: Persona
) -> Callable[[Job], list[tuple[Completion, int]]]:
    """The generation of a text completion: the prompt continued as it stands, with the
    character's adapter; events as in `speak_work`."""
    prompt = body.text()
    stops = [body.stop] if isinstance(body.stop, str) else list(body.stop or [])
    limit = body.max_tokens or state.default_max_tokens
    defaults = AgentSettings()
    temperature = defaults.temperature if body.temperature is None else body.temperature
    base = Sampling(max_tokens=limit, temperature=temperature,
                    top_p=body.top_p or defaults.top_p, stop=tuple(stops))  # fmt: skip

    def work(job: Job) -> list[tuple[Completion, int]]:
        prompt_tokens = state.model.count_tokens(prompt)
        check_fits(prompt_tokens, limit, state.model.context_length, "prompt")
        job.put("ready", prompt_tokens)
        sampling = replace(base, adapter=state.adapter(persona))
        done = []
        for i, seed in enumerate(body.seeds()):
            pieces: list[str] = []
            for piece in job.model.stream(prompt, replace(sampling, seed=seed)):
                pieces.append(piece)
                if body.stream:
                    job.put("text", (i, "".join(pieces)))
            text = "".join(pieces)
            finish = "length" if len(pieces) >= limit else "stop"
            tokens = state.model.count_tokens(text) if text else 0
            completion = Completion(prompt + text if body.echo else text, tokens, finish)
            job.put("said", (i, completion, limit))
            done.append((completion, limit))
        return done

    return work


def install_errors(app: FastAPI) -> None:
    """Every error in OpenAI's shape: ours, bad requests, HTTP errors and bugs (500)."""

    @app.exception_handler(OpenAIError)
    async def openai_error(_: Request, err: OpenAIError) -> JSONResponse:
        return JSONResponse(err.body(), status_code=err.status, headers=err.headers)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, err: RequestValidationError) -> JSONResponse:
        errors = err.errors()
        first: dict[str, Any] = dict(errors[0]) if errors else {"loc": (), "msg": "invalid"}
        if first.get("type") == "json_invalid":
            why = first.get("ctx", {}).get("error", "JSON decode error")
            message = f"the request body is not valid JSON: {why}"
            return await openai_error(_, OpenAIError(400, message, "invalid_request_error"))
        param = ".".join(str(p) for p in first["loc"] if p != "body") or None
        message = f"{param}: {first['msg']}" if param else str(first["msg"])
        error = OpenAIError(400, message, "invalid_request_error", None, param)
        return await openai_error(_, error)

    @app.exception_handler(DramatisError)
    async def model_error(_: Request, err: DramatisError) -> JSONResponse:
        return await openai_error(_, OpenAIError(500, str(err), "server_error"))

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, err: HTTPException) -> JSONResponse:
        kind = "invalid_request_error" if err.status_code < 500 else "server_error"
        return await openai_error(_, OpenAIError(err.status_code, str(err.detail), kind))

    @app.exception_handler(Exception)
    async def bug(_: Request, err: Exception) -> JSONResponse:
        message = f"internal error ({type(err).__name__}): please report it with the request"
        return await openai_error(_, OpenAIError(500, message, "server_error"))


def create_app(state: ServeState) -> FastAPI:
    """The FastAPI app over one loaded model; `state` holds the model and the options."""
    app = FastAPI(title="dramatis", description="Shakespeare characters as OpenAI models.")
    install_errors(app)
    app.add_middleware(Guard, api_key=state.api_key, max_body=state.max_body)
    gate = Gate(state.queue, state.wait_s)

    async def answer(request: Request, body: ReplyOptions, reply: Reply, work: Callable) -> Any:
        await gate.enter()
        job = Job(gate, state.model, state.timeout_s)
        job.start(work)
        if not body.stream:
            return await whole_reply(job, request, reply)
        try:
            _, prompt_tokens = await next_event(job)  # a prompt that cannot fit: a 400
        except BaseException:
            job.cancel("refused")
            raise
        events = stream_reply(job, reply, prompt_tokens, body.wants_usage())
        return StreamingResponse(events, media_type="text/event-stream")

    @app.get("/v1/models")
    def list_models() -> dict[str, Any]:
        return {"object": "list", "data": model_rows(cast_personas(state.settings.home))}

    @app.get("/v1/models/{model_id:path}")
    def get_model(model_id: str) -> dict[str, Any]:
        for row in model_rows(cast_personas(state.settings.home)):
            if row["id"] == model_id:
                return row
        return model_entry(persona_for(model_id, state.settings.home), model_id)

    @app.post("/v1/chat/completions", response_model=None)
    async def chat(request: Request, body: ChatRequest) -> Any:
        refuse_unsupported(body)
        persona = persona_for(body.model, state.settings.home, caller(body))
        reply = Reply(f"chatcmpl-{uuid.uuid4().hex[:24]}", body.model, int(time.time()), True)
        return await answer(request, body, reply, speak_work(state, body, persona))

    @app.post("/v1/completions", response_model=None)
    async def complete(request: Request, body: CompletionRequest) -> Any:
        for param in ("logprobs", "suffix"):
            if getattr(body, param) is not None:
                raise OpenAIError(400, f"{param}: not supported here; send the request "
                                  f"without `{param}`", "invalid_request_error",
                                  "unsupported_parameter", param)  # fmt: skip
        persona = persona_for(body.model, state.settings.home)
        body.text()  # one prompt, checked before the request waits
        reply = Reply(f"cmpl-{uuid.uuid4().hex[:24]}", body.model, int(time.time()), False)
        return await answer(request, body, reply, continue_work(state, body, persona))

    return app
