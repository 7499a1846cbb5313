"""A deterministic stand-in model for fast unit tests (never a default)."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

from dramatis.agents.model import LanguageModel, Message, Sampling, stop_index


class FakeModel(LanguageModel):
    """Replies with scripted texts in order, or seeded word salad once they run out.

    Stop sequences are honoured like a real backend does: the output ends before
    the first one; `stops=False` returns raw completions (to test what the agent's
    own guard cuts). `chat=False` makes it behave like a base model without a template.
    """

    name = "fake"

    def __init__(
        self, replies: Sequence[str] = (), *, chat: bool = True, stops: bool = True
    ) -> None:
        self.replies = list(replies)
        self.chat = chat
        self.stops = stops
        self.prompts: list[str] = []  # every prompt seen, for assertions
        self.samplings: list[Sampling] = []  # and the sampling options of each

    def _reply(self, sampling: Sampling) -> str:
        if self.replies:
            return self.replies.pop(0)
        rng = random.Random(sampling.seed)
        words = [
            "my",
            "lord",
            "the",
            "night",
            "is",
            "cold",
            "and",
            "I",
            "am",
            "sick",
            "at",
            "heart",
        ]
        return " ".join(rng.choice(words) for _ in range(8)) + "."

    def stream(self, prompt: str, sampling: Sampling) -> Iterator[str]:
        self.prompts.append(prompt)
        self.samplings.append(sampling)
        text = self._reply(sampling)
        cut = stop_index(text, sampling.stop) if self.stops else -1
        if cut >= 0:
            text = text[:cut]
        words = text.split(" ")[: sampling.max_tokens]
        for i, word in enumerate(words):
            yield word if i == 0 else " " + word

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def render_chat(self, messages: Sequence[Message]) -> str | None:
        if not self.chat:
            return None
        body = "".join(f"<|{m.role}|>\n{m.content}\n" for m in messages)
        return body + "<|assistant|>\n"
