"""The language-model interface every backend implements.

Two methods, as small as we can keep it: `generate` returns a whole completion,
`stream` yields it in pieces. Options are keyword-only. Prompt formatting is the
agent's job; a backend only says whether it carries a chat template.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from dramatis.core.errors import DramatisError


@dataclass(frozen=True)
class Message:
    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass(frozen=True)
class Sampling:
    """Sampling options shared by every backend."""

    max_tokens: int = 64
    temperature: float = 0.8
    top_p: float = 0.95
    repeat_penalty: float = 1.0  # 1.0: off; small models loop without ~1.2
    presence_penalty: float = 0.0  # 0.0: off; subtracted once from every token already used
    banned: tuple[str, ...] = ()  # words whose tokens get a large negative logit bias
    boosted: tuple[str, ...] = ()  # words whose first token gets `boost` added (memory cues)
    boost: float = 0.0
    # No line break and no end of text before this many tokens (0: off): a speech of
    # some length rather than a word or two (vLLM's `min_tokens`).
    min_tokens: int = 0
    seed: int | None = None
    stop: tuple[str, ...] = field(default_factory=tuple)
    # LoRA adapter to apply, by the name it was loaded under (`load_adapter`); None:
    # the bare base. Per request, like multi-LoRA servers name one per request.
    adapter: str | None = None


@dataclass
class Completion:
    text: str
    tokens: int  # generated tokens, as the backend's tokenizer counts them
    finish_reason: str = "stop"  # "stop" | "length"


def stop_index(text: str, stops: Sequence[str]) -> int:
    """Where the earliest stop string starts in `text`, or -1 when none occurs.

    stop_index("Ay, my lord.\nHORATIO: No", ["\nHORATIO:", "\nHAMLET:"]) -> 12
    """
    return min((i for i in (text.find(s) for s in stops if s) if i >= 0), default=-1)


class LanguageModel(abc.ABC):
    """A text-completion model. Implementations: LlamaCppModel, FakeModel."""

    name: str = "model"

    @abc.abstractmethod
    def stream(self, prompt: str, sampling: Sampling) -> Iterator[str]:
        """Yield the completion of `prompt` piece by piece."""

    def generate(self, prompt: str, sampling: Sampling) -> Completion:
        """The whole completion of `prompt`."""
        pieces = list(self.stream(prompt, sampling))
        return Completion(text="".join(pieces), tokens=len(pieces))

    @abc.abstractmethod
    def count_tokens(self, text: str) -> int:
        """Number of tokens `text` takes in this model's vocabulary."""

    def render_chat(self, messages: Sequence[Message]) -> str | None:
        """The prompt text for `messages` under the model's chat template, or None
        when the model has no template (a base model: use the script format)."""
        return None

    @property
    def context_length(self) -> int:
        return 2048

    @property
    def adapters(self) -> tuple[str, ...]:
        """Names of the LoRA adapters loaded on this model (none by default)."""
        return ()

    def load_adapter(self, name: str, path: str, **options: object) -> None:
        """Load a LoRA adapter under `name`, for `Sampling(adapter=name)`."""
        raise NotImplementedError(f"{self.name} does not support LoRA adapters")

    def stack_under(self, name: str, scale: float = 1.0) -> None:
        """Apply the loaded adapter `name` at `scale` under every other one (and alone
        when a turn asks for none): the shared stage voice."""
        raise DramatisError(
            f"{self.name} cannot stack adapters: the stage voice runs on llama.cpp models"
        )
