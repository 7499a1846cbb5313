"""Prompt echo: a turn that copies >= 5 consecutive words of the persona card or of the
prompt's instructions ("Hamlet, Son to the former, and Nephew to the present King").

Range 0..1, the share of turns that echo (lower is better). Calibrated on known inputs
(tests/test_arena_metrics.py): a card recital is flagged, a real speech is not. Voice
samples in the prompt are real lines: copying them counts as copying, not as echo.
"""

from __future__ import annotations

from dramatis.agents.formats import formats
from dramatis.agents.prompts import PromptInput
from dramatis.arena.context import Context
from dramatis.arena.metric import Key, Score, rate
from dramatis.arena.runs import Run
from dramatis.arena.words import ngrams, words

SPAN = 5  # consecutive words that count as an echo


def prompt_text(ctx: Context, speaker: str, setting: str) -> str:
    """The card, persons list and instructions a speaker's prompt holds, in every
    registered format (agents/formats.py: page, chat, script and any added), without
    the transcript and without voice samples."""
    persona = ctx.personas[speaker]
    cards = tuple(ctx.personas[name].card() for name in ctx.cast)
    p = PromptInput(speaker, persona.card(), (), setting, ctx.cast, (), persons=cards)
    return "\n".join(fmt.words(p) for fmt in formats())


def echoes_prompt(text: str, prompt: str, span: int = SPAN) -> bool:
    """Whether `text` shares `span` consecutive words with `prompt`.

    echoes_prompt("Hamlet, son to the former, and nephew", "Hamlet, Son to the former, and Nephew to") -> True
    """
    return bool(ngrams(words(text), span) & ngrams(words(prompt), span))


class PromptEcho:
    """Share of turns that echo the persona card or the prompt's instructions."""

    name = "prompt_echo"
    keys = (Key("prompt_echo", "lower", rating="penalty"),)

    def score(self, run: Run, ctx: Context) -> Score:
        prompts = {name: prompt_text(ctx, name, run.setting) for name in ctx.cast}
        flags = [
            echoes_prompt(t["text"], prompts[t["speaker"]]) if t["speaker"] in prompts else False
            for t in run.scored
        ]
        return Score({"prompt_echo": rate(flags)}, per_turn=[float(f) for f in flags])
