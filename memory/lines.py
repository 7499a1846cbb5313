"""A memory as the line a character's prompt and tools show: 'Polonius said: "…"'."""

from __future__ import annotations

from dramatis.memory.retrieval import Memory

QUOTE_WORDS = 28  # a remembered speech is quoted up to this many words


def quote(text: str, words: int = QUOTE_WORDS) -> str:
    """quote("a b c", 2) -> "a b …"; whole texts stay whole."""
    parts = text.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def remembered(m: Memory, who: str) -> str:
    """A memory as an in-world line: 'Polonius said: "…"' or 'You said: "…"'."""
    speaker = "You" if m.speaker == who else m.speaker
    return f'{speaker} said: "{quote(m.text)}"'
