"""Slash commands typed in the chat input: parsing and completion (pure, no UI)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

COMMANDS = {
    "invite": ("NAME", "bring a character on stage"),
    "dismiss": ("NAME", "send a character off stage"),
    "undo": ("", "take back the last turn (branches from the one before)"),
    "retry": ("", "say the last reply again with another seed"),
    "swipe": ("[next|prev|N]", "browse the versions of the last reply and keep one"),
    "edit": ("[N] [TEXT]", "say your line N (default: your last) as TEXT and go on from it"),
    "branches": ("", "list the lines the chat has taken (undo, retry and edit branch it)"),
    "branch": ("N", "go on from branch N of /branches"),
    "watch": ("[N]", "let the characters talk N turns among themselves (default 4)"),
    "save": ("", "write the transcript files to runs/THREAD_ID"),
    "export": ("[PATH.md]", "write the chat as a Markdown transcript"),
    "help": ("", "show commands and keys"),
}


@dataclass(frozen=True)
class Command:
    name: str
    arg: str


def parse_command(text: str) -> Command | None:
    """A slash command, or None for a line to say.

    parse_command("/invite  Lady Macbeth") -> Command("invite", "Lady Macbeth")
    """
    if not text.startswith("/"):
        return None
    name, _, arg = text[1:].strip().partition(" ")
    return Command(name.lower(), " ".join(arg.split()))


def complete(text: str, names: Sequence[str]) -> str | None:
    """The whole line a slash command is heading for, or None.

    complete("/inv", []) -> "/invite "; complete("/invite ho", ["Horatio"]) -> "/invite Horatio"
    """
    if not text.startswith("/"):
        return None
    head, space, arg = text[1:].partition(" ")
    if not space:
        hits = [c for c in COMMANDS if c.startswith(head.lower())]
        return f"/{hits[0]} " if hits and head else None
    if head.lower() not in ("invite", "dismiss") or not arg:
        return None
    hits = [n for n in names if n.lower().startswith(arg.lower())]
    return f"/{head} {hits[0]}" if hits else None


def help_text() -> str:
    """One line per command, for /help."""
    return "\n".join(
        f"/{name} {arg}".rstrip() + f" — {about}" for name, (arg, about) in COMMANDS.items()
    )
