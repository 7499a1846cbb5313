"""The language-model interface every backend implements.

Two abstract methods: `stream` yields a completion in pieces and `count_tokens`
measures text. The rest have defaults a backend overrides where it can: `generate`
(the whole completion), `render_chat` (None: no chat template), `context_length`,
LoRA adapters (`adapters`, `load_adapter`, `stack_under`), and `supports`, the optional
sampling features (`FEATURES`) it honours. Asking a backend for one it lacks is a
one-line error (`check_sampling`), never a silent drop. Prompt formatting is the agent's job.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

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
    # The tail cut before the temperature, as llama.cpp cuts it unless told: the `top_k`
    # likeliest tokens (0: all), and of those the ones at least `min_p` times as likely as
    # the first (0: off). A backend's own cut applies at these defaults.
    top_k: int = 40  # (top_k, min_p) at BACKEND_TAIL_CUT ask nothing of a backend
    min_p: float = 0.05
    repeat_penalty: float = 1.0  # 1.0: off; small models loop without ~1.2
    presence_penalty: float = 0.0  # 0.0: off; subtracted once from every token already used
    banned: tuple[str, ...] = ()  # words whose tokens get a large negative logit bias
    boosted: tuple[str, ...] = ()  # words whose first token gets `boost` added (memory cues)
    boost: float = 0.0
    # The speaker's own words (memory/voice.py `distinctive`), each raised by `own_boost`
    # like a boosted word, until said once (a word both boosted and own gets `boost`).
    own_words: tuple[str, ...] = ()
    own_boost: float = 0.0
    # No line break and no end of text before this many tokens (0: off): a speech of
    # some length rather than a word or two (vLLM's `min_tokens`).
    min_tokens: int = 0
    # The repeat and presence penalties leave commas alone: a speech that has used a
    # comma may use another (penalised, the stage voice wrote dashes and question marks
    # instead: 4 commas per 100 words against the plays' 10, 3.5 dashes against 0.8).
    spare_commas: bool = False
    # ... and these words, in their one-token spellings that start a word (" the", " The",
    # "The"): a speech of the plays says "the", "I" and "you" again as often as it needs
    # (penalised, a staged speech repeats its own words a third as often as the plays do).
    spared_words: tuple[str, ...] = ()
    seed: int | None = None
    stop: tuple[str, ...] = field(default_factory=tuple)
    # LoRA adapter to apply, by the name it was loaded under (`load_adapter`); None:
    # the bare base. Per request, like multi-LoRA servers name one per request.
    adapter: str | None = None
    # The prompt begins with the last completion's prompt: a retry of it, or its run-on
    # to a sentence's end (that prompt and the text it made). A local backend may keep
    # all it evaluated rather than evaluate it again (a hint; others ignore it).
    continues: bool = False
    # Only words the plays use or `page_words` holds may be drawn (agents/known_words.py):
    # lower-case bare tokens of the page, so its names and setting stay sayable.
    known_only: bool = False
    page_words: frozenset[str] = frozenset()
    # A fixed logit bias per word on its one-token spellings that start a word (" what",
    # " What", "What"): (word, bias) pairs, the function-word rates of
    # `AgentSettings.word_rates` (agents/critic.py `Realness.word_bias`). A ban wins.
    tilted: tuple[tuple[str, float], ...] = ()
    # A fixed logit bias on the tokens that start a word of the plays with LONG_LETTERS
    # lower-case letters or more (" pardon", " vassals"): the plays say words of six
    # letters and more one time in five, the bundled model one time in eight
    # (`AgentSettings.long_words`; 0: off).
    long_words: float = 0.0


LONG_LETTERS = 6  # the letters of a word-starting token that `Sampling.long_words` raises

# Sampling options a backend may lack (the `Sampling` field each names is asked for when
# it differs from its default); every backend honours max_tokens, temperature, top_p,
# seed and stop.
FEATURES = (
    "banned", "boosted", "known_only", "min_tokens", "presence_penalty", "repeat_penalty",
    "spare_commas", "spared_words", "tail_cut", "tilted", "long_words",
)  # fmt: skip


# Sampling's own (top_k, min_p): llama.cpp's cut, which a backend applies unless told
BACKEND_TAIL_CUT = (Sampling.top_k, Sampling.min_p)


def asked_features(sampling: Sampling) -> tuple[str, ...]:
    """The optional features `sampling` asks for.

    asked_features(Sampling(min_tokens=8, repeat_penalty=1.2)) -> ("min_tokens", "repeat_penalty")
    """
    asked = {
        "banned": bool(sampling.banned),
        "boosted": (bool(sampling.boosted) and sampling.boost != 0.0)
        or (bool(sampling.own_words) and sampling.own_boost != 0.0),
        "known_only": sampling.known_only,
        "min_tokens": sampling.min_tokens > 0,
        "presence_penalty": sampling.presence_penalty != 0.0,
        "repeat_penalty": sampling.repeat_penalty != 1.0,
        "spare_commas": sampling.spare_commas,
        "spared_words": bool(sampling.spared_words),
        "tail_cut": (sampling.top_k, sampling.min_p) != BACKEND_TAIL_CUT,
        "tilted": any(bias for _, bias in sampling.tilted),
        "long_words": sampling.long_words != 0.0,
    }
    return tuple(f for f in FEATURES if asked[f])


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


class PromptModel(Protocol):
    """What building a prompt needs of a model: its tokens, template and context. A
    LanguageModel has it; so does training's tokenizer (training/dataset.py), which
    builds prompts without generating."""

    name: str

    def count_tokens(self, text: str) -> int: ...

    def render_chat(self, messages: Sequence[Message]) -> str | None: ...

    @property
    def context_length(self) -> int: ...


class LanguageModel(abc.ABC):
    """A text-completion model. Implementations: LlamaCppModel, OpenAIModel, PeftModel,
    FakeModel (tests/test_backend_contract.py runs each through the same cases)."""

    name: str = "model"
    supports: frozenset[str] = frozenset()  # which of FEATURES it honours

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


def check_sampling(model: LanguageModel, sampling: Sampling) -> None:
    """Raise a one-line DramatisError when `sampling` asks `model` for a feature it lacks."""
    missing = [f for f in asked_features(sampling) if f not in model.supports]
    if missing:
        can = ", ".join(f for f in FEATURES if f in model.supports) or "none of them"
        raise DramatisError(
            f"{model.name} cannot honour {', '.join(missing)} (it supports {can}): "
            "leave it at its default, or use a backend that has it"
        )
