"""The chat's widgets: transcript with a streaming line, cast panel, input with history."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.table import Table
from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.suggester import Suggester
from textual.widgets import Input, Static

from dramatis.agents.scene import Partial
from dramatis.agents.turn import Turn
from dramatis.tui.commands import complete
from dramatis.tui.session import CastRow, Recollection

COLOURS = ["bold cyan", "bold magenta", "bold green", "bold yellow", "bold blue", "bold red"]
NOTES = {"play": "from the play", "fallback": "a line from the play", "stopped": "stopped"}


def speech(speaker: str, text: str, style: str, note: str = "") -> Text:
    """One speech as styled text: "HAMLET: To be." with an optional dim note."""
    out = Text()
    out.append(f"{speaker.upper()}: ", style=style)
    out.append(text)
    if note:
        out.append(f"  ({note})", style="dim")
    return out


class Transcript(VerticalScroll):
    """Every turn of the chat, newest last; the turn being spoken streams in its own line."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.colours: dict[str, str] = {}
        self.live: Static | None = None

    def colour(self, name: str) -> str:
        if name not in self.colours:
            self.colours[name] = COLOURS[len(self.colours) % len(COLOURS)]
        return self.colours[name]

    def show(self, turns: Sequence[Turn]) -> None:
        """Replace everything with `turns`."""
        self.live = None
        self.remove_children()
        self.mount_all([self._line(t) for t in turns])
        self.scroll_end(animate=False)

    def add(self, turn: Turn) -> None:
        """A finished turn: it takes the streaming line's place."""
        if self.live is not None:
            self.live.remove()
            self.live = None
        self.mount(self._line(turn))
        self.scroll_end(animate=False)

    def stream(self, event: Partial) -> None:
        text = speech(event.speaker, event.text + " ▌", self.colour(event.speaker))
        if self.live is None:
            self.live = Static(text, classes="turn live")
            self.mount(self.live)
        else:
            self.live.update(text)
        self.scroll_end(animate=False)

    def note(self, text: str) -> None:
        """A line from the app itself (help, saved files), not part of the scene."""
        self.mount(Static(Text(text, style="dim italic"), classes="note"))
        self.scroll_end(animate=False)

    def _line(self, turn: Turn) -> Static:
        style = self.colour(turn["speaker"])
        note = NOTES.get(turn["source"], "")
        return Static(speech(turn["speaker"], turn["text"], style, note), classes="turn")


class CastPanel(Static):
    """Who is in the chat: on stage or not, adapter, turns spoken."""

    def show(self, rows: Sequence[CastRow], colour: Callable[[str], str]) -> None:
        table = Table(box=None, show_header=True, header_style="bold", expand=True)
        table.add_column("", width=1)
        table.add_column("cast", no_wrap=True, ratio=3)
        table.add_column("adapter", no_wrap=True, ratio=2)
        table.add_column("turns", justify="right")
        for row in rows:
            mark = Text("●", style="green") if row.present else Text("○", style="dim")
            name = Text(row.name, style=colour(row.name) if row.present else "dim")
            table.add_row(mark, name, row.adapter, str(row.turns))
        self.update(table)


def recalls(memory: Recollection | None, style: str) -> Text:
    """The recall panel's text: a heading and one line per memory; empty without memory.

    recalls(Recollection("Hamlet", ("Polonius is dead.",)), "bold") -> "Hamlet recalls\n· Polonius is dead."
    """
    out = Text()
    if memory is None:
        return out
    out.append(f"{memory.speaker} recalls", style=style)
    for line in memory.lines or ("(nothing)",):
        out.append(f"\n· {line}", style="" if memory.lines else "dim")
    return out


class RecallPanel(Static):
    """What the current (or last) speaker recalled, when the chat has memory."""

    def show(self, memory: Recollection | None, colour: Callable[[str], str]) -> None:
        self.update(recalls(memory, colour(memory.speaker) if memory else ""))
        self.display = memory is not None


class SlashSuggester(Suggester):
    """Completes slash commands and the names they take."""

    def __init__(self, names: Callable[[], Sequence[str]]) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.names = names

    async def get_suggestion(self, value: str) -> str | None:
        return complete(value, self.names())


class ChatInput(Input):
    """An input line with history (up/down) and Tab to accept a completion."""

    BINDINGS = [
        Binding("up", "history(-1)", "Older", show=False),
        Binding("down", "history(1)", "Newer", show=False),
        Binding("tab", "cursor_right", "Complete", show=False),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.history: list[str] = []
        self.position = 0

    def remember(self, line: str) -> None:
        if line and (not self.history or self.history[-1] != line):
            self.history.append(line)
        self.position = len(self.history)

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        self.position = max(0, min(len(self.history), self.position + step))
        self.value = self.history[self.position] if self.position < len(self.history) else ""
        self.cursor_position = len(self.value)
