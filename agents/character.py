"""CharacterAgent: persona + what this character saw -> one clean utterance."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from dramatis.agents.guard import clean_utterance, echoes, heading_stops, trim_to_sentence
from dramatis.agents.model import LanguageModel, Sampling
from dramatis.agents.prompts import PromptInput, build_prompt, fit_history
from dramatis.agents.turn import Turn


class PersonaLike(Protocol):
    """What an agent needs of a persona (dramatis.personas.Persona has it)."""

    name: str
    sample_lines: list[str]

    def card(self) -> str: ...


class MemorySource(Protocol):
    """What an agent asks of memory (dramatis.memory.SceneMemory has it): in-world lines
    the character remembers that bear on `cue`, most useful first."""

    def recall(self, character: str, cue: str, k: int) -> list[str]: ...


@dataclass(frozen=True)
class AgentSettings:
    max_tokens: int = 60
    temperature: float = 0.8
    top_p: float = 0.95
    repeat_penalty: float = 1.2
    max_lines: int = 4  # a turn is a speech, not a monologue
    retries: int = 2  # extra attempts, other seeds, when a reply is empty or parrots a turn
    history_tokens: int = 900  # budget for the visible transcript in the prompt
    prompt_format: str = "auto"  # "auto" | "chat" | "script"
    n_samples: int = 4  # voice examples from the persona
    memory_k: int = 4  # memories asked of a MemorySource per turn
    memory_tokens: int = 160  # budget for them in the prompt


@dataclass(frozen=True)
class Utterance:
    text: str
    tokens: int
    source: str  # "model" or "fallback" (every attempt came out empty)
    attempts: int
    seconds: float
    prompt_format: str


class CharacterAgent:
    def __init__(
        self,
        persona: PersonaLike,
        model: LanguageModel,
        *,
        cast: Sequence[str],
        settings: AgentSettings | None = None,
        adapter: str | None = None,
        memory: MemorySource | None = None,
    ) -> None:
        self.persona = persona
        self.name = persona.name
        self.model = model
        self.cast = tuple(cast)
        self.others = tuple(c for c in self.cast if c != self.name)
        self.settings = settings or AgentSettings()
        self.adapter = adapter  # this character's LoRA on `model` (None: the bare base)
        self.memory = memory
        self._token_counts: dict[str, int] = {}

    def visible(self, turns: Sequence[Turn]) -> list[Turn]:
        """The turns this character witnessed, newest last, within the token budget."""
        seen = [t for t in turns if self.name in t["present"] or t["speaker"] == self.name]
        return fit_history(seen, self.settings.history_tokens, self._count)

    def _count(self, text: str) -> int:
        if text not in self._token_counts:
            self._token_counts[text] = self.model.count_tokens(text)
        return self._token_counts[text]

    def prompt(self, turns: Sequence[Turn], setting: str) -> tuple[str, str]:
        """(prompt text, format) for this character's next speech."""
        history = self.visible(turns)
        p = PromptInput(
            speaker=self.name,
            summary=self._summary(history),
            samples=tuple(self.persona.sample_lines[: self.settings.n_samples]),
            setting=setting,
            cast=self.cast,
            history=tuple(history),
            memories=self.remember(history, setting),
        )
        return build_prompt(self.model, p, self.settings.prompt_format)

    def _summary(self, history: Sequence[Turn]) -> str:
        """The persona card, plus the lorebook entries the recent turns bring in (an
        imported character card's character_book; personas without one have none)."""
        lore_for = getattr(self.persona, "lore_for", None)
        lore = lore_for([t["text"] for t in history]) if lore_for else ""
        return f"{self.persona.card()}\n{lore}" if lore else self.persona.card()

    def remember(self, history: Sequence[Turn], setting: str) -> tuple[str, ...]:
        """What the character recalls, cued by the last two speeches it heard, within
        the `memory_tokens` budget."""
        if self.memory is None:
            return ()
        cue = " ".join(t["text"] for t in history[-2:]) or setting
        kept, spent = [], 0
        for line in self.memory.recall(self.name, cue, self.settings.memory_k):
            spent += self._count(line) + 2
            if spent > self.settings.memory_tokens:
                break
            kept.append(line)
        return tuple(kept)

    def speak(
        self,
        turns: Sequence[Turn],
        setting: str,
        *,
        seed: int,
        on_text: Callable[[str], None] | None = None,
    ) -> Utterance:
        """One utterance; `on_text` gets the cleaned text so far while it streams."""
        start = time.perf_counter()
        prompt, fmt = self.prompt(turns, setting)
        stops = heading_stops(self.others) + (["\n\n"] if fmt == "script" else [])
        for attempt in range(self.settings.retries + 1):
            sampling = Sampling(
                max_tokens=self.settings.max_tokens,
                temperature=self.settings.temperature,
                top_p=self.settings.top_p,
                repeat_penalty=self.settings.repeat_penalty,
                seed=seed + 7919 * attempt,  # a new seed per retry, same sequence on rerun
                stop=tuple(stops),
                adapter=self.adapter,
            )
            raw, tokens = "", 0
            for piece in self.model.stream(prompt, sampling):
                raw += piece
                tokens += 1
                if on_text is not None:
                    on_text(clean_utterance(raw, self.name, self.others))
            text = self._finish(raw, cut_off=tokens >= self.settings.max_tokens)
            if text and not echoes(text, (t["text"] for t in turns)):
                return Utterance(
                    text, tokens, "model", attempt + 1, time.perf_counter() - start, fmt
                )
        text = self._fallback(turns)
        if on_text is not None:
            on_text(text)
        elapsed = time.perf_counter() - start
        return Utterance(text, 0, "fallback", self.settings.retries + 1, elapsed, fmt)

    def _finish(self, raw: str, *, cut_off: bool) -> str:
        """The final text of a completion: cleaned, at most `max_lines`, and ending on
        a whole sentence when the token limit cut it."""
        lines = clean_utterance(raw, self.name, self.others).splitlines()
        text = "\n".join(lines[: self.settings.max_lines])
        return trim_to_sentence(text) if cut_off or len(lines) > self.settings.max_lines else text

    def _fallback(self, turns: Sequence[Turn]) -> str:
        """A line from the character's own play, marked as such in the transcript."""
        said = {t["text"] for t in turns}
        lines = [s for s in self.persona.sample_lines if s not in said]
        return (lines or self.persona.sample_lines or ["..."])[0]
