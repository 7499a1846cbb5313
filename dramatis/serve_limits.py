"""The server's bounds: who may ask, how much, how many wait, how long a reply may take,
and a generation that stops when its client leaves.

`Guard` (ASGI middleware) checks the bearer key on every path (/docs and /openapi.json
included) and refuses a body over the size limit with 413 before anything parses it.
`Gate` lets one generation run at a time (one llama.cpp context) with at most `queue`
requests waiting, first come first served: a full line is 429, a wait longer than
`wait_s` is 503, both with Retry-After. `Job` runs one request's generation on its own
thread through a `Cancellable` model, which stops within a token once the client has
gone or the request's time is up; the gate's slot is freed when the thread ends.
"""

from __future__ import annotations

import asyncio
import json
import math
import secrets
import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from dramatis.agents.model import Completion, LanguageModel, Sampling
from dramatis.agents.wrappers import ModelWrapper

Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]


class OpenAIError(Exception):
    """An error answered in OpenAI's shape: {"error": {message, type, param, code}}."""

    def __init__(
        self,
        status: int,
        message: str,
        kind: str,
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind
        self.code, self.param, self.headers = code, param, headers or {}

    def body(self) -> dict[str, Any]:
        error = {"message": self.message, "type": self.kind, "param": self.param}
        return {"error": {**error, "code": self.code}}


def key_ok(authorization: str, api_key: str | None) -> bool:
    """Whether an Authorization header carries `api_key` (no key set: always).

    key_ok("Bearer sk-1", "sk-1") -> True; key_ok("", "sk-1") -> False
    """
    if api_key is None:
        return True
    given = authorization.removeprefix("Bearer ").strip()
    return secrets.compare_digest(given.encode(), api_key.encode())


class Guard:
    """ASGI middleware: 401 without the key (every path), 413 over `max_body` bytes.

    A body within the limit is read here once and handed on whole."""

    def __init__(self, app: Any, api_key: str | None, max_body: int) -> None:
        self.app, self.api_key, self.max_body = app, api_key, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if not key_ok(headers.get("authorization", ""), self.api_key):
            bad = OpenAIError(401, "Incorrect API key provided.", "invalid_request_error",
                              "invalid_api_key")  # fmt: skip
            await respond(send, bad)
            return
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            await respond(send, self.too_large())
            return
        body, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left before its body arrived
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_body:
                await respond(send, self.too_large())
                return
        await self.app(scope, replay(bytes(body), receive), send)

    def too_large(self) -> OpenAIError:
        limit = f"{self.max_body / 2**20:g} MiB"
        return OpenAIError(
            413,
            f"the request body is over the server's limit of {limit}: send less "
            "(or start the server with a larger --max-body-mb)",
            "invalid_request_error",
            "request_too_large",
        )


def replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives `body` once, then waits on the client (for its disconnect)."""
    sent = False

    async def again() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


async def respond(send: Send, err: OpenAIError) -> None:
    """Send `err` as a whole JSON response from ASGI middleware."""
    payload = json.dumps(err.body()).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload))]
    headers += [(k.lower().encode(), v.encode()) for k, v in err.headers.items()]
    await send({"type": "http.response.start", "status": err.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


class Gate:
    """One generation at a time; at most `queue` requests wait for it, in order.

    Used on the event loop only (`enter` awaits); `leave` is called there too."""

    def __init__(self, queue: int, wait_s: float) -> None:
        self.queue, self.wait_s = queue, wait_s
        self.busy = False
        self.line: deque[asyncio.Future[None]] = deque()
        self.seconds = 2.0  # a generation's running mean, for Retry-After

    def retry_after(self) -> dict[str, str]:
        """The Retry-After header: about when the line ahead will have been served."""
        return {"Retry-After": str(max(1, math.ceil(self.seconds * (len(self.line) + 1))))}

    async def enter(self) -> None:
        """Take the slot, after those already waiting; OpenAIError 429 or 503 if not."""
        if not self.busy and not self.line:
            self.busy = True
            return
        if len(self.line) >= self.queue:
            raise OpenAIError(
                429,
                f"the server is busy: {len(self.line)} requests already wait for the model; "
                "retry after the time in Retry-After",
                "rate_limit_error",
                "server_busy",
                headers=self.retry_after(),
            )
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.line.append(turn)
        try:
            async with asyncio.timeout(self.wait_s):
                await turn
        except (TimeoutError, asyncio.CancelledError) as err:
            if turn.done() and not turn.cancelled():
                self.leave()  # the slot came just as the wait ended: pass it on
            if isinstance(err, asyncio.CancelledError):
                raise
            raise OpenAIError(
                503,
                f"the model stayed busy for the server's {self.wait_s:g} s wait limit; "
                "retry after the time in Retry-After",
                "server_error",
                "server_busy",
                headers=self.retry_after(),
            ) from None

    def leave(self, seconds: float | None = None) -> None:
        """Free the slot for the next in line (`seconds`: how long this one took)."""
        if seconds is not None:
            self.seconds = 0.8 * self.seconds + 0.2 * seconds
        while self.line:
            turn = self.line.popleft()
            if not turn.done():
                turn.set_result(None)  # the slot passes on: busy stays True
                return
        self.busy = False


class Cancelled(Exception):
    """The request's generation was stopped: its client left or its time ran out."""


class Cancellable(ModelWrapper):
    """The served model for one request: every stream stops within a token of `stop`."""

    def __init__(self, inner: LanguageModel, stop: threading.Event) -> None:
        super().__init__(inner)
        self.stop = stop

    def stream(self, prompt: str, sampling: Sampling) -> Iterator[str]:
        pieces = self.inner.stream(prompt, sampling)
        try:
            while not self.stop.is_set():
                piece = next(pieces, None)
                if piece is None:
                    return
                yield piece
            raise Cancelled("stopped")
        finally:
            close = getattr(pieces, "close", None)
            if close is not None:
                close()  # ends the backend's generation and frees its lock

    def generate(self, prompt: str, sampling: Sampling) -> Completion:
        pieces = list(self.stream(prompt, sampling))
        return Completion(text="".join(pieces), tokens=len(pieces))


class Job:
    """One request's generation on its own thread, holding the gate's slot until it ends.

    The thread reports through `events` (kind, value) on the event loop: what the work
    `put`s, then ("done", result) or ("error", exception). `cancel` stops it within a token.
    """

    def __init__(self, gate: Gate, model: LanguageModel, timeout_s: float) -> None:
        self.gate, self.timeout_s = gate, timeout_s
        self.stop = threading.Event()
        self.reason = ""
        self.model = Cancellable(model, self.stop)
        self.events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()

    def cancel(self, reason: str) -> None:
        if not self.stop.is_set():
            self.reason = reason
            self.stop.set()

    def put(self, kind: str, value: Any) -> None:
        """Report from the job's thread."""
        self._loop.call_soon_threadsafe(self.events.put_nowait, (kind, value))

    def start(self, work: Callable[[Job], Any]) -> None:
        """Run `work(self)` on a thread; the gate is left when it ends, whatever happens."""
        timer = threading.Timer(self.timeout_s, self.cancel, ("timeout",))
        timer.daemon = True

        def run() -> None:
            began = self._loop.time()
            try:
                self.put("done", work(self))
            except Exception as err:  # reported to the request, not lost in a thread
                self.put("error", err)
            finally:
                timer.cancel()
                spent = self._loop.time() - began
                self._loop.call_soon_threadsafe(self.gate.leave, spent)

        timer.start()
        threading.Thread(target=run, daemon=True, name="dramatis-reply").start()

    def failure(self, err: Exception) -> OpenAIError:
        """The OpenAI error for what ended the job with `err`."""
        if isinstance(err, OpenAIError):
            return err
        if isinstance(err, Cancelled) and self.reason == "timeout":
            return OpenAIError(
                504,
                f"the reply took longer than the server's {self.timeout_s:g} s limit: ask "
                "for fewer max_tokens (or start the server with a larger --timeout)",
                "server_error",
                "timeout",
            )
        return OpenAIError(500, f"the reply failed: {err}", "server_error")


async def watch_disconnect(receive: Receive, job: Job) -> None:
    """Cancel `job` when the client of a whole (not streamed) reply goes away."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            job.cancel("disconnected")
            return
