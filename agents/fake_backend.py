"""A deterministic stand-in model for fast unit tests (never a default)."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence

from dramatis.agents.model import (
    FEATURES,
    Completion,
    LanguageModel,
    Message,
    Sampling,
    check_sampling,
    stop_index,
)


class FakeModel(LanguageModel):
    """Replies with scripted texts in order, or seeded word salad once they run out.

    Stop sequences are honoured like a real backend does: the output ends before
    the first one; `stops=False` returns raw completions (to test what the agent's
    own guard cuts). `chat=False` makes it behave like a base model without a template.
    It takes every optional sampling feature by default and records it (`samplings`);
    of the biases it honours `banned` in its word salad, never in a scripted reply (tests
    script what the agent's guards must catch). `supports=` declares fewer, to see the
    one-line error a backend gives for a feature it lacks.
    """

    name = "fake"

    def __init__(
        self,
        replies: Sequence[str] = (),
        *,
        chat: bool = True,
        stops: bool = True,
        supports: Iterable[str] = FEATURES,
    ) -> None:
        self.replies = list(replies)
        self.supports = frozenset(supports)
        self.chat = chat
        self.stops = stops
        self.prompts: list[str] = []  # every prompt seen, for assertions
        self.samplings: list[Sampling] = []  # and the sampling options of each
        self.finish = "stop"  # the last completion's finish reason

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
        banned = {b.lower() for b in sampling.banned}
        words = [w for w in words if w.lower() not in banned] or ["..."]
        return " ".join(rng.choice(words) for _ in range(8)) + "."

    def stream(self, prompt: str, sampling: Sampling) -> Iterator[str]:
        check_sampling(self, sampling)
        self.prompts.append(prompt)
        self.samplings.append(sampling)
        text = self._reply(sampling)
        cut = stop_index(text, sampling.stop) if self.stops else -1
        if cut >= 0:
            text = text[:cut]
        words = text.split(" ")
        self.finish = "length" if len(words) > sampling.max_tokens else "stop"
        for i, word in enumerate(words[: sampling.max_tokens]):
            yield word if i == 0 else " " + word

    def generate(self, prompt: str, sampling: Sampling) -> Completion:
        pieces = list(self.stream(prompt, sampling))
        return Completion("".join(pieces), len(pieces), self.finish)

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def render_chat(self, messages: Sequence[Message]) -> str | None:
        if not self.chat:
            return None
        body = "".join(f"<|{m.role}|>\n{m.content}\n" for m in messages)
        return body + "<|assistant|>\n"
