"""The answers of `dramatis serve`: whole replies and server-sent event streams in
OpenAI's shapes (chat.completion, chat.completion.chunk, text_completion), fed by a
`Job`'s reports (dramatis/serve_limits.py)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from dramatis.agents.character import Utterance
from dramatis.agents.guard import ends_sentence
from dramatis.agents.model import Completion
from dramatis.serve_limits import Job, OpenAIError, watch_disconnect


def finish_reason(utterance: Utterance, max_tokens: int) -> str:
    """ "length" only when the token limit cut the speech short of a sentence's end.

    The agent runs a cut speech on to its sentence end and trims what stays unfinished,
    so a reply that ends a sentence is "stop" even when it used every token."""
    cut = utterance.tokens >= max_tokens and not ends_sentence(utterance.text)
    return "length" if cut else "stop"


@dataclass
class Reply:
    """What one request's answer carries: its id, object kind, model and time."""

    rid: str
    model: str
    created: int
    chat: bool

    def choice(self, i: int, content: str | None, finish: str | None, whole: bool) -> dict:
        """One entry of `choices`: a message, a delta or a text."""
        entry: dict[str, Any] = {"index": i}
        if not self.chat:
            entry.update(text=content or "", logprobs=None)
        elif whole:
            entry["message"] = {"role": "assistant", "content": content}
        else:
            entry["delta"] = {} if content is None else {"content": content}
        return {**entry, "finish_reason": finish}

    def body(self, choices: list[dict], usage: dict | None, chunk: bool = False) -> dict:
        kind = "chat.completion" if self.chat else "text_completion"
        out = {
            "id": self.rid,
            "object": f"{kind}.chunk" if chunk and self.chat else kind,
            "created": self.created,  # the same in every chunk of one reply
            "model": self.model,
            "choices": choices,
        }
        return {**out, "usage": usage}

    def event(self, choices: list[dict], usage: dict | None = None) -> str:
        return f"data: {json.dumps(self.body(choices, usage, True), ensure_ascii=False)}\n\n"


def usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    total = prompt_tokens + completion_tokens
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "total_tokens": total}  # fmt: skip


def reason(said: Utterance | Completion, limit: int) -> str:
    return finish_reason(said, limit) if isinstance(said, Utterance) else said.finish_reason


async def next_event(job: Job) -> tuple[str, Any]:
    """The job's next report; its failure raised as an OpenAIError."""
    kind, value = await job.events.get()
    if kind == "error":
        raise job.failure(value)
    return kind, value


async def stream_reply(job: Job, reply: Reply, prompt_tokens: int, usage_wanted: bool
                       ) -> AsyncIterator[str]:  # fmt: skip
    """Server-sent events as the replies grow. A piece the cleaner takes back (a cut-off
    heading) is never sent; the final text tops it up. A client that leaves cancels the
    job (the await below is where its cancellation lands)."""
    sent: dict[int, str] = {}
    spent = 0
    extra = {"usage": None} if usage_wanted else {}
    try:
        while True:
            try:
                kind, value = await next_event(job)
            except OpenAIError as err:
                yield f"data: {json.dumps(err.body())}\n\n"
                break
            if kind == "done":
                break
            i, text = value[0], value[1] if kind == "text" else value[1].text
            if i not in sent:
                sent[i] = ""
                first = reply.choice(i, "", None, False)
                yield event(
                    reply, [{**first, "delta": {"role": "assistant", "content": ""}}], extra
                )
            if text.startswith(sent[i]) and len(text) > len(sent[i]):
                yield event(reply, [reply.choice(i, text[len(sent[i]) :], None, False)], extra)
                sent[i] = text
            if kind == "said":
                said, limit = value[1], value[2]
                spent += said.tokens
                yield event(reply, [reply.choice(i, None, reason(said, limit), False)], extra)
        if usage_wanted:
            yield reply.event([], usage(prompt_tokens, spent))
        yield "data: [DONE]\n\n"
    finally:
        job.cancel("disconnected")  # a no-op when the job is done


def event(reply: Reply, choices: list[dict], extra: dict) -> str:
    """A chunk; with `extra` {"usage": None} when the client asked for a usage chunk."""
    body = {k: v for k, v in reply.body(choices, None, True).items() if k != "usage"}
    return f"data: {json.dumps({**body, **extra}, ensure_ascii=False)}\n\n"


async def whole_reply(job: Job, request: Request, reply: Reply) -> dict[str, Any]:
    """The whole answer; a client that leaves meanwhile stops the generation."""
    watcher = asyncio.create_task(watch_disconnect(request.receive, job))
    try:
        _, prompt_tokens = await next_event(job)
        kind, value = await next_event(job)
        while kind != "done":
            kind, value = await next_event(job)
    finally:
        watcher.cancel()
        job.cancel("disconnected")  # a no-op when the job is done
    choices, spent = [], 0
    for i, (said, limit) in enumerate(value):
        choices.append(reply.choice(i, said.text, reason(said, limit), True))
        spent += said.tokens
    return reply.body(choices, usage(prompt_tokens, spent))
