"""A turn of a scene: plain JSON-like data, so checkpoints need no pickle."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class Turn(TypedDict):
    index: int  # 0-based position in the scene
    speaker: str
    text: str
    source: str  # "model" | "play" (opening lines) | "card" | "fallback" | "human" | "stopped"
    present: list[str]  # who saw it: the characters on stage when it was spoken
    tokens: int  # generated tokens (0 for lines not generated)
    seconds: float  # wall time spent producing it
    # The memory step's tool calls for this turn: [{"tool", "args", "result"}] (a scene
    # with memory; agents/scene.py)
    tools: NotRequired[list[dict[str, Any]]]
    # Candidates drawn for a turn the model was asked for: the kept one and those the
    # guards and best-of-n refused (a fallback kept none); what its seconds paid for
    attempts: NotRequired[int]
    # With `keep_candidates` (AgentSettings): every acceptable candidate drawn, the kept
    # one included, in the order drawn
    candidates: NotRequired[list[str]]


def make_turn(
    index: int,
    speaker: str,
    text: str,
    *,
    source: str = "model",
    present: list[str] | None = None,
    tokens: int = 0,
    seconds: float = 0.0,
    tools: list[dict[str, Any]] | None = None,
    attempts: int = 0,
    candidates: list[str] | None = None,
) -> Turn:
    turn = Turn(
        index=index,
        speaker=speaker,
        text=text,
        source=source,
        present=list(present or []),
        tokens=tokens,
        seconds=round(seconds, 4),
    )
    if tools is not None:
        turn["tools"] = tools
    if attempts:
        turn["attempts"] = attempts
    if candidates:
        turn["candidates"] = list(candidates)
    return turn
