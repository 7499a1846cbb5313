"""ChatApp: the Textual app of `dramatis chat`.

The UI thread only draws. Everything that touches the scene (the model, the
checkpoints) runs in one thread worker at a time and reports back through
`call_from_thread`; an error there becomes a notification.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, Header, Label, Static

from dramatis.agents.scene import Partial
from dramatis.agents.turn import Turn
from dramatis.core.errors import DramatisError
from dramatis.tui.commands import COMMANDS, help_text, parse_command
from dramatis.tui.session import Branch, CastRow, ChatSession, Recollection
from dramatis.tui.widgets import CastPanel, ChatInput, RecallPanel, SlashSuggester, Transcript

KEYS = (
    "Enter say · ↑/↓ history · Tab complete · Ctrl+T watch · Esc stop · Ctrl+R retry · "
    "Alt+←/→ swipe · F2 edit · Ctrl+Z undo · Ctrl+S save · Ctrl+P commands · F1 help · "
    "Ctrl+Q quit"
)


def edit_text(arg: str) -> tuple[int | None, str]:
    """(turn, new text) of an /edit: "4 Good morrow." -> (4, "Good morrow."); "Hi" -> (None, "Hi")."""
    head, _, rest = arg.partition(" ")
    return (int(head), rest.strip()) if head.isdigit() else (None, arg.strip())


def branch_list(branches: list[Branch]) -> str:
    """/branches as lines: number, turns, where it parts from the line shown, its end."""
    rows = [
        f"{'▶' if b.current else ' '} {b.number}: {b.turns} turns"
        + ("" if b.current else f", parts at turn {b.parts_at}")
        + f" · {b.last[:60]}"
        for b in branches
    ]
    return "branches (/branch N goes on from one):\n" + "\n".join(rows)


class KeepOrDiscard(ModalScreen[bool]):
    """Asked after Escape stopped a character mid-speech."""

    BINDINGS = [("k", "choose(True)", "Keep"), ("d,escape", "choose(False)", "Discard")]

    def __init__(self, turn: Turn) -> None:
        super().__init__()
        self.turn = turn

    def compose(self) -> ComposeResult:
        with Vertical(id="ask"):
            yield Label(f"Stopped {self.turn['speaker']}: “{self.turn['text']}”")
            yield Label("Keep what was said so far?")
            with Horizontal():
                yield Button("Keep (k)", id="keep", variant="primary")
                yield Button("Discard (d)", id="discard")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "keep")

    def action_choose(self, keep: bool) -> None:
        self.dismiss(keep)


class ChatApp(App[None]):
    TITLE = "dramatis chat"
    CSS_PATH = "chat.tcss"
    BINDINGS = [
        Binding("ctrl+t", "watch", "Watch"),
        Binding("escape", "stop", "Stop"),
        Binding("ctrl+r", "retry", "Retry"),
        Binding("alt+left", "swipe(-1)", "Swipe ←", show=False),
        Binding("alt+right", "swipe(1)", "Swipe →", show=False),
        Binding("f2", "edit", "Edit", show=False),
        Binding("ctrl+z", "undo", "Undo"),
        Binding("ctrl+s", "save", "Save"),
        Binding("f1", "help", "Help"),
    ]

    def __init__(self, load: Callable[[], ChatSession], *, watch_turns: int = 4) -> None:
        super().__init__()
        self.load = load  # builds the session (loads the model): run in a worker
        self.watch_turns = watch_turns
        self.session: ChatSession | None = None
        self.busy = False  # a scene job is running (one at a time)
        self.rows: list[CastRow] = []  # the cast panel's rows: the person first
        self.known: list[str] = []  # the default cast's names, read once at load

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            with Vertical(id="talk"):
                yield Transcript(id="transcript")
                yield ChatInput(
                    placeholder="Say something, or /help",
                    suggester=SlashSuggester(self._names),
                    id="say",
                )
            with Vertical(id="side"):
                yield CastPanel(id="cast")
                yield RecallPanel(id="recall")
                yield Static(id="about")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#main").loading = True
        self._load()

    @work(thread=True, group="scene")
    def _load(self) -> None:
        try:
            from dramatis.personas import load_cast

            session = self.load()
            turns, rows, memory = session.turns(), session.cast_rows(), session.recollection()
            self.known = list(load_cast().personas)
        except Exception as err:  # a bad model file, a missing package: say so, stay up
            self.call_from_thread(self._fail, err)
            return
        self.call_from_thread(self._loaded, session, turns, rows, memory)

    def _loaded(
        self,
        session: ChatSession,
        turns: list[Turn],
        rows: list[CastRow],
        memory: Recollection | None,
    ) -> None:
        self.session = session
        self.sub_title = session.thread_id
        transcript = self.query_one(Transcript)
        for row in rows:
            transcript.colour(row.name)
        transcript.show(turns)
        about = f"[i]{session.spec.setting}[/i]\n\nthread [b]{session.thread_id}[/b]"
        self.query_one("#about", Static).update(about + "\n\n" + "\n".join(session.staged.notes))
        self._show_rows(rows)
        self._show_recall(memory)
        self.query_one("#main").loading = False
        self.query_one(ChatInput).focus()

    def _fail(self, err: Exception) -> None:
        self.query_one("#main").loading = False
        self.notify(str(err), title="cannot start the chat", severity="error", timeout=30)

    def _show_rows(self, rows: list[CastRow]) -> None:
        self.rows = rows
        self.query_one(CastPanel).show(rows, self.query_one(Transcript).colour)

    def _show_recall(self, memory: Recollection | None) -> None:
        self.query_one(RecallPanel).show(memory, self.query_one(Transcript).colour)

    def _names(self) -> list[str]:
        """Names to complete and to offer in the palette: the chat's cast, then the default cast."""
        return list(dict.fromkeys([r.name for r in self.rows[1:]] + self.known))

    # -- the person types ------------------------------------------------------------

    def on_input_submitted(self, event: ChatInput.Submitted) -> None:
        line = event.value.strip()
        box = self.query_one(ChatInput)
        if not line:
            return
        if self.session is None or self.busy:
            self.notify("wait for the scene (Escape stops a reply)", severity="warning")
            return
        box.remember(line)
        box.value = ""
        command = parse_command(line)
        if command is None:
            self._scene_job(lambda s: self._say_and_answer(s, line))
        else:
            self.run_command(command.name, command.arg)

    def run_command(self, name: str, arg: str = "") -> None:
        """A slash command (also what the palette and the keys call)."""
        jobs: dict[str, Callable[[ChatSession], Iterable[Partial | Turn] | None]] = {
            "invite": lambda s: self._note(f"{s.invite(arg)} comes in."),
            "dismiss": lambda s: self._note(f"{s.dismiss(arg)} leaves."),
            "undo": lambda s: self._undo(s),
            "retry": self._retry,
            "swipe": lambda s: self._swipe(s, arg),
            "edit": lambda s: self._edit(s, arg),
            "branches": lambda s: self._note(branch_list(s.branches())),
            "branch": lambda s: self._branch(s, arg),
            "watch": lambda s: s.run(int(arg) if arg.isdigit() else self.watch_turns),
            "save": lambda s: self._note(f"transcript saved in {s.save()}"),
            "export": lambda s: self._note(f"exported to {s.export(Path(arg) if arg else None)}"),
        }
        if name == "help":
            self.action_help()
        elif name not in jobs:
            self.notify(f"unknown command /{name}: try /help", severity="error")
        elif name in ("invite", "dismiss") and not arg:
            self.notify(f"/{name} needs a name, e.g. /{name} Horatio", severity="error")
        elif name == "edit" and not edit_text(arg)[1]:
            self._offer_edit(arg)
        elif name == "branch" and not arg.isdigit():
            self.run_command("branches")
        else:
            self._scene_job(jobs[name])

    def _say_and_answer(self, session: ChatSession, line: str) -> Iterator[Partial | Turn]:
        turn = session.say(line)
        yield turn
        yield from session.run(session.replies(turn))

    def _note(self, text: str) -> None:
        self.call_from_thread(self.query_one(Transcript).note, text)

    def _retry(self, session: ChatSession) -> Iterator[Partial | Turn]:
        again = session.retry()  # the last turn is taken back now, said again as it streams
        self.call_from_thread(self.query_one(Transcript).show, session.turns())
        return again

    def _swipe(self, session: ChatSession, arg: str) -> Iterator[Partial | Turn]:
        """Show another version of the last reply; past the newest, draw one (a retry)."""
        word = arg.lower()
        if word.isdigit():
            now = session.swipes()
            shown = session.swipe(int(word) - 1 - now.shown)
        elif word in ("next", "prev", ""):
            shown = session.swipe(-1 if word == "prev" else 1)
        else:
            raise DramatisError(f"/swipe {arg}: use /swipe next, /swipe prev or /swipe N")
        if shown is None:
            yield from self._retry(session)
            shown = session.swipes()
        else:
            self.call_from_thread(self.query_one(Transcript).show, session.turns())
        self._note(f"reply {shown.shown + 1} of {len(shown.texts)} (Alt+←/→ for the others)")

    def _edit(self, session: ChatSession, arg: str) -> Iterator[Partial | Turn]:
        index, text = edit_text(arg)
        line = session.my_line(index)
        replies = session.edit(line["index"], text)
        self.call_from_thread(self.query_one(Transcript).show, session.turns()[: line["index"]])
        yield from replies

    def _offer_edit(self, arg: str) -> None:
        """Put your line (N, or your last) in the input as "/edit N TEXT", to change."""
        if self.session is None:
            return
        index, _ = edit_text(arg)
        try:
            line = self.session.my_line(index)
        except DramatisError as err:
            self.notify(str(err), severity="error")
            return
        box = self.query_one(ChatInput)
        box.value = f"/edit {line['index']} {line['text']}"
        box.cursor_position = len(box.value)
        box.focus()

    def _branch(self, session: ChatSession, arg: str) -> None:
        branch = session.switch_branch(int(arg))
        self.call_from_thread(self.query_one(Transcript).show, session.turns())
        self._note(f"on branch {branch.number}: {branch.turns} turns (/branches lists them)")

    def _undo(self, session: ChatSession) -> None:
        taken = session.undo()
        self.call_from_thread(self.query_one(Transcript).show, session.turns())
        self._note(f"took back {taken['speaker']}'s turn (the old branch stays in the history).")

    # -- the scene worker ------------------------------------------------------------

    def _scene_job(self, job: Callable[[ChatSession], Iterable[Partial | Turn] | None]) -> None:
        if self.session is None or self.busy:
            self.notify("wait for the scene (Escape stops a reply)", severity="warning")
            return
        self.busy = True
        self._run_job(self.session, job)

    @work(thread=True, group="scene")
    def _run_job(
        self, session: ChatSession, job: Callable[[ChatSession], Iterable[Partial | Turn] | None]
    ) -> None:
        last: Turn | None = None
        try:
            for event in job(session) or ():
                self.call_from_thread(self._event, event)
                last = event if not isinstance(event, Partial) else last
        except DramatisError as err:
            self.call_from_thread(self.notify, str(err), severity="error")
        except Exception as err:  # a bug or a backend failure: report it, keep the chat
            self.call_from_thread(
                self.notify, f"{type(err).__name__}: {err}", title="error", severity="error"
            )
        finally:
            rows, memory = self._safe_rows(session)
            self.call_from_thread(self._job_done, rows, memory, last)

    @staticmethod
    def _safe_rows(session: ChatSession) -> tuple[list[CastRow], Recollection | None]:
        try:
            return session.cast_rows(), session.recollection()
        except Exception:
            return [], None

    def _event(self, event: Partial | Turn) -> None:
        transcript = self.query_one(Transcript)
        if isinstance(event, Partial):
            if transcript.live is None and self.session is not None:  # a new speech begins
                self._show_recall(self.session.recollection(event.speaker))
            transcript.stream(event)
        else:
            transcript.add(event)
            for agent in self.session.scene.agents.values() if self.session else ():
                for note in agent.take_notes():  # what was cut to fit the context, once
                    transcript.note(note)

    def _job_done(
        self, rows: list[CastRow], memory: Recollection | None, last: Turn | None
    ) -> None:
        self.busy = False
        if rows:
            self._show_rows(rows)
            self._show_recall(memory)
        if last is not None and last["source"] == "stopped":
            if last["text"].strip():
                self.push_screen(KeepOrDiscard(last), self._kept)
            else:
                self._kept(False)

    def _kept(self, keep: bool | None) -> None:
        if not keep:
            self._scene_job(self._undo)

    # -- keys and the command palette ------------------------------------------------

    def action_stop(self) -> None:
        if self.busy and self.session is not None:
            self.session.stop()

    def action_watch(self) -> None:
        self.run_command("watch")

    def action_retry(self) -> None:
        self.run_command("retry")

    def action_swipe(self, step: int) -> None:
        self.run_command("swipe", "prev" if step < 0 else "next")

    def action_edit(self) -> None:
        self.run_command("edit")

    def action_undo(self) -> None:
        self.run_command("undo")

    def action_save(self) -> None:
        self.run_command("save")

    def action_help(self) -> None:
        self.query_one(Transcript).note(help_text() + "\n" + KEYS)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for name, (arg, about) in COMMANDS.items():
            if arg != "NAME":
                yield SystemCommand(name.capitalize(), about, self._command(name))
        here = [r.name for r in self.rows[1:] if r.present]
        for name in here:
            yield SystemCommand(f"Dismiss {name}", "send off stage", self._command("dismiss", name))
        for name in self._names():
            if name not in here:
                yield SystemCommand(
                    f"Invite {name}", "bring on stage", self._command("invite", name)
                )

    def _command(self, name: str, arg: str = "") -> Callable[[], None]:
        return lambda: self.run_command(name, arg)
