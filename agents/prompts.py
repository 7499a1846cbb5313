"""Prompt formats: chat (instruction-tuned models) and script (base models).

A chat model gets a system card and the transcript as a user message; a base
model continues a play script ("HORATIO: ...\\nHAMLET:"). The format is chosen
per model: whichever it can follow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dramatis.agents.model import LanguageModel, Message
from dramatis.agents.turn import Turn


@dataclass(frozen=True)
class PromptInput:
    speaker: str
    summary: str  # persona summary: who they are, from which play
    samples: tuple[str, ...]  # a few of the character's own lines, as voice examples
    setting: str
    cast: tuple[str, ...]  # everyone in the scene, speaker included
    history: tuple[Turn, ...]  # what THIS character saw, oldest first, already windowed


def transcript_lines(history: Sequence[Turn]) -> str:
    """Turns as script lines.

    [{"speaker": "Ophelia", "text": "My lord?"}] -> "OPHELIA: My lord?"
    """
    return "\n".join(f"{t['speaker'].upper()}: {' '.join(t['text'].split())}" for t in history)


def chat_messages(p: PromptInput) -> list[Message]:
    others = [c for c in p.cast if c != p.speaker]
    samples = "\n".join(f"- {s}" for s in p.samples)
    system = (
        f"You are {p.speaker}. {p.summary}\n"
        f"Speak only as {p.speaker}, in Shakespeare's English: one short speech of one to "
        f"three sentences. Never write lines for {', '.join(others) or 'anyone else'}, "
        f"and no stage directions.\nLines you have spoken before:\n{samples}"
    )
    scene = f"Scene: {p.setting}\nOn stage: {', '.join(p.cast)}."
    said = transcript_lines(p.history) or "(The scene begins.)"
    user = f"{scene}\n\n{said}\n\nWhat does {p.speaker} say next? Reply with the speech only."
    return [Message("system", system), Message("user", user)]


def script_prompt(p: PromptInput) -> str:
    """A play script that a base model continues with the speaker's line."""
    samples = " ".join(p.samples[:3])
    lines = [
        "A scene from a play in the style of William Shakespeare.",
        f"Setting: {p.setting}",
        f"{p.speaker}: {p.summary} {p.speaker} is wont to say: {samples}",
        "",
    ]
    said = transcript_lines(p.history)
    return "\n".join([*lines, *([said] if said else []), f"{p.speaker.upper()}:"])


def build_prompt(model: LanguageModel, p: PromptInput, fmt: str = "auto") -> tuple[str, str]:
    """(prompt text, format used). `fmt`: "auto" | "chat" | "script"."""
    if fmt in ("auto", "chat"):
        rendered = model.render_chat(chat_messages(p))
        if rendered is not None:
            return rendered, "chat"
        if fmt == "chat":
            raise ValueError(f"model {model.name} has no chat template: use the script format")
    return script_prompt(p), "script"
