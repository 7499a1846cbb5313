"""The `dramatis` command line: stage and resume scenes, inspect plays and personas."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.live import Live
from rich.text import Text

from dramatis.agents.catalog import BUNDLED, parse_model
from dramatis.agents.formats import format_names
from dramatis.agents.policies import policy_help
from dramatis.agents.scene import Partial
from dramatis.agents.scene_store import SceneSpec, SceneStore
from dramatis.agents.settings_check import agent_settings, parse_pairs
from dramatis.core.errors import DramatisError, user_errors
from dramatis.core.output import whole_output
from dramatis.core.paths import ensure_folder
from dramatis.core.settings import Settings
from dramatis.failures import CheckedGroup

if TYPE_CHECKING:
    from dramatis.staging import Staged

app = typer.Typer(
    cls=CheckedGroup,  # one error path for every command: dramatis/failures.py
    help="Stage conversations between character agents.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def command(fn: Any) -> Any:
    """What every command runs inside: a DramatisError as one line (user_errors), and
    output piped into another program at full width, so tables keep whole names
    (core/output.py)."""
    return whole_output(user_errors(fn))


@app.callback()
def _options(
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            envvar="DRAMATIS_DEBUG",
            help="Show the full traceback of an unexpected error instead of saving it.",
        ),
    ] = False,
) -> None:
    """Stage conversations between character agents."""


COLOURS = ["bold cyan", "bold magenta", "bold green", "bold yellow", "bold blue", "bold red"]

Home = Annotated[
    Path | None, typer.Option(help="State folder (scenes db, caches); env DRAMATIS_HOME.")
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON only.")]
Threads = Annotated[int | None, typer.Option(help="llama.cpp threads; env DRAMATIS_THREADS.")]
Out = Annotated[Path | None, typer.Option(help="Output folder (default runs/THREAD_ID).")]


class TurnPrinter:
    """Streams each turn: live text on a terminal, whole turns elsewhere."""

    def __init__(self, console: Console, cast: list[str]) -> None:
        self.console = console
        self.colour = {name: COLOURS[i % len(COLOURS)] for i, name in enumerate(cast)}
        self.live: Live | None = None

    def line(self, speaker: str, text: str, note: str = "") -> Text:
        out = Text(f"{speaker.upper()}: ", style=self.colour.get(speaker, "bold white"))
        out.append(text)
        if note:
            out.append(f"  ({note})", style="dim")
        return out

    def partial(self, event: Partial) -> None:
        if not self.console.is_terminal:
            return
        if self.live is None:
            self.live = Live(console=self.console, auto_refresh=False, transient=True)
            self.live.start()
        self.live.update(self.line(event.speaker, event.text), refresh=True)

    def stop(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None

    def turn(self, turn: dict) -> None:
        self.stop()
        note = {
            "play": "from the play",
            "fallback": "fallback: a line from the play",
            "card": "the card's greeting",
        }
        self.console.print(self.line(turn["speaker"], turn["text"], note.get(turn["source"], "")))


def _play_scene(
    staged: Staged,
    turns: int,
    out: Path,
    opening: list | None = None,
    store: SceneStore | None = None,
) -> None:
    """Stream the scene's new turns. With `store` (a new scene) the spec is saved with
    the first turn, so a scene that never spoke is never saved."""
    from dramatis.staging import run_turns
    from dramatis.transcript import write_transcript

    console, spec, scene = Console(), staged.spec, staged.scene
    for note in staged.notes:
        console.print(f"[dim]{note}[/dim]")
    printer = TurnPrinter(console, spec.cast)
    console.print(Text(spec.setting, style="italic dim"))
    said = scene.turns(spec.thread_id)  # before a resume; a cut-off turn included
    for turn in said if said else opening or []:  # a new scene's opening is turn 0 on
        printer.turn(turn)
    try:
        first = (lambda: store.save(spec)) if store is not None else None
        for event in run_turns(staged, turns, opening, first):
            if isinstance(event, Partial):
                printer.partial(event)
            elif event["index"] >= len(said):  # a cut-off turn taken up is shown once
                printer.turn(event)
                for agent in scene.agents.values():  # what was cut to fit the context
                    for note in agent.take_notes():
                        console.print(Text(note, style="dim"))
                write_transcript(out, spec, scene.turns(spec.thread_id))
    except KeyboardInterrupt:
        printer.stop()
        saved = scene.turns(spec.thread_id)
        if not saved:
            console.print("\n[yellow]interrupted[/yellow] before the first turn: nothing saved")
            raise typer.Exit(130) from None
        if store is not None:
            store.save(spec)  # it has turns (the play's opening at least): it resumes
        write_transcript(out, spec, saved)
        console.print(
            f"\n[yellow]interrupted[/yellow]: {len(saved)} turns saved; continue with "
            f"dramatis resume {spec.thread_id}"
        )
        raise typer.Exit(130) from None
    _closing(console, spec, scene.turns(spec.thread_id), out)


def _closing(console: Console, spec: SceneSpec, turns: list, out: Path) -> None:
    from dramatis.transcript import write_transcript

    write_transcript(out, spec, turns)
    console.print(
        f"\n[dim]{len(turns)} turns · transcript in {out} · thread id[/dim] "
        f"[bold]{spec.thread_id}[/bold]"
    )
    console.print(f"[dim]continue with:[/dim] dramatis resume {spec.thread_id} --turns 4")


# What `dramatis stage` adds to the agents' defaults, from the arena's numbers
# (docs/fidelity.md, round 2): three candidates a turn, the critic keeps one. The chat
# app and the server keep one candidate, so their replies stream as they come.
STAGE_DEFAULTS: dict[str, Any] = {"best_of": 3}


def agent_options(pairs: list[str]) -> dict[str, Any]:
    """AgentSettings fields from KEY=VALUE pairs, typed and range-checked
    (agents/settings_check.py).

    agent_options(["best_of=3", "ban_out_of_world=true"]) -> {"best_of": 3, "ban_out_of_world": True}
    """
    return parse_pairs(pairs)


@app.command()
@command
def stage(
    cast: Annotated[
        str,
        typer.Option(
            help="Comma-separated characters, e.g. 'Hamlet,Ophelia' or 'tempest:Antonio'."
        ),
    ],
    scene: Annotated[
        str | None,
        typer.Option(help="Seed from a scene of a play: PLAY:ACT.SCENE, e.g. hamlet:3.1."),
    ] = None,
    setting: Annotated[str | None, typer.Option(help="Describe the setting yourself.")] = None,
    horizon: Annotated[
        str | None,
        typer.Option(
            help="Story horizon: PLAY:ACT.SCENE (comma-separate several plays); nothing from "
            "that scene on reaches a prompt. Default: the --scene for its play, else the "
            "whole play (docs/memory.md).",
        ),
    ] = None,
    turns: Annotated[int, typer.Option(min=1, help="Turns to generate.")] = 12,
    seed: Annotated[int, typer.Option(help="Sampling and speaker-choice seed.")] = 7,
    model: Annotated[
        str | None,
        typer.Option(
            help=f"Bundled model ({', '.join(BUNDLED)}), a .gguf path, openai:URL#MODEL, "
            "or fake (a stand-in that writes word salad: smoke tests)."
        ),
    ] = None,
    policy: Annotated[str, typer.Option(help=policy_help())] = "addressed",
    max_tokens: Annotated[int, typer.Option(help="Token limit per speech (8 or more).")] = 60,
    temperature: Annotated[float, typer.Option(help="Sampling temperature (0 to 5).")] = 0.8,
    prompt_format: Annotated[
        str, typer.Option("--format", help=f"Prompt format: {' | '.join(format_names())}.")
    ] = "page",
    agent_set: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Agent setting KEY=VALUE, e.g. --set best_of=1 (stage draws 3 by default; "
            "repeatable). Every key and its range: docs/settings.md. --set is applied last: "
            "--set max_tokens=20 wins over --max-tokens.",
        ),
    ] = None,
    out: Out = None,
    home: Home = None,
    threads: Threads = None,
    adapters: Annotated[
        bool, typer.Option("--adapters", help="Each character speaks with its active LoRA adapter.")
    ] = False,
    stage_voice: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=2.0,
            help="Scale of the stage voice stacked under every character (default: 1 where "
            "one exists for the model: the shipped one, or `dramatis train --stage-voice`); "
            "0: off.",
        ),
    ] = None,
    memory: Annotated[
        bool,
        typer.Option(help="Characters remember the play up to the scene, and the scene itself."),
    ] = False,
    lore: Annotated[
        str,
        typer.Option(
            help="World info for the scene: lorebooks from `dramatis lore import`, "
            "comma-separated; NAME=BOOK for one character only."
        ),
    ] = "",
    greeting: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Open with a card's greeting N: 0 its first message, 1 on its alternate "
            "greetings (default: the first message).",
        ),
    ] = None,
) -> None:
    """Stage a new scene and stream it; it is saved with its first turn."""
    from dramatis.agents.character import AgentSettings
    from dramatis.agents.policies import make_policy
    from dramatis.personas.world_info import LoreStore, missing_lore
    from dramatis.staging import build_scene, cast_personas, new_thread_id, parse_cast, scene_spec

    settings = Settings.load(home=home, n_threads=threads, model=model).ensure()
    agent = agent_settings(
        AgentSettings(**STAGE_DEFAULTS),
        {"max_tokens": max_tokens, "temperature": temperature, "prompt_format": prompt_format},
        [*(agent_set or []), *([f"lore={lore}"] if lore else [])],
    )  # checked before anything loads
    model_spec = parse_model(settings.model)
    personas = cast_personas(parse_cast(cast), settings.home)
    make_policy(policy)  # fail on a bad name before loading anything
    from dramatis.memory.attach import check_horizon, index_missing

    horizon = check_horizon(horizon)
    if memory:  # a play not yet indexed is indexed now, with a progress bar
        from dramatis.memory.settings import MemorySettings

        index_missing(MemorySettings.of(settings), [p.play for p in personas if p.play])
    names = [p.name for p in personas]
    missing_lore(agent.lore, names, LoreStore(settings.home))  # before the model loads
    scene_setting, opening = _setting_and_opening(scene, setting, personas, greeting)
    thread_id = new_thread_id(names)
    out_dir = ensure_folder((out or Path("runs") / thread_id).resolve(), "--out")
    spec = scene_spec(
        personas,
        thread_id=thread_id,
        out=str(out_dir),
        setting=scene_setting,
        source_scene=scene,
        horizon=horizon,
        model=model_spec.name,
        seed=seed,
        policy=policy,
        agent=agent,
        adapters=adapters,
        stage_voice=stage_voice,
        memory=memory,
    )
    store = SceneStore(settings.scenes_db)
    try:
        staged = build_scene(spec, store, settings)  # loads the model: a failure saves nothing
        _play_scene(staged, turns, out_dir, opening, store)  # saved with its first turn
    finally:
        store.close()  # and with it the scene's writer lock


def _setting_and_opening(
    scene: str | None, setting: str | None, personas: list, greeting: int | None = None
) -> tuple[str, list]:
    """The scene's setting (the user's, the play scene's, a card's scenario, or a default)
    and its opening: the play scene's first speeches, else an imported card's greeting
    (`--greeting N` picks which), if any."""
    from dramatis.staging import card_opening, cast_setting, opening_from_play

    if scene and greeting is not None:
        raise DramatisError("--greeting opens with a card's greeting: leave out --scene")
    if not scene:
        names = [p.name for p in personas]
        opening = card_opening(personas, len(personas) > 1, greeting)
        return setting or cast_setting(personas, names), opening
    play_setting, opening = opening_from_play(scene)
    return setting or play_setting, opening


@app.command()
@command
def resume(
    thread_id: Annotated[str, typer.Argument(help="Thread id printed by `dramatis stage`.")],
    turns: Annotated[int, typer.Option(min=1, help="Turns to add.")] = 4,
    out: Out = None,
    home: Home = None,
    threads: Threads = None,
) -> None:
    """Continue a saved scene from its last checkpoint."""
    from dramatis.staging import build_scene, resume_opening

    settings = Settings.load(home=home, n_threads=threads).ensure()
    store = SceneStore(settings.scenes_db)
    spec = store.load(thread_id)
    staged_out = Path(spec.out) if spec.out else Path("runs") / thread_id  # older scenes: none
    out_dir = ensure_folder(out or staged_out, "--out")  # the scene's own folder by default
    try:
        staged = build_scene(spec, store, settings)  # one writer: a second resume is refused
        opening = resume_opening(spec, staged.scene, settings)  # a scene that never spoke
        _play_scene(staged, turns, out_dir, opening)
    finally:
        store.close()  # and with it the scene's writer lock


@app.command()
@command
def scenes(home: Home = None, as_json: JsonFlag = False) -> None:
    """List saved scenes."""
    settings = Settings.load(home=home).ensure()
    store = SceneStore(settings.scenes_db)
    specs = [store.load(thread_id) for thread_id in store.ids()]
    said = store.turn_counts()  # 0: saved but never spoke (resume starts it)
    if as_json:
        rows = [{**s.model_dump(mode="json"), "turns": said.get(s.thread_id, 0)} for s in specs]
        typer.echo(json.dumps(rows, indent=2))
        return
    for spec in specs:
        kind = f"chat as {spec.human}" if spec.human else "scene"
        count = said.get(spec.thread_id, 0)
        turns = f"{count} turns" if count else "0 turns (never spoke; resume starts it)"
        turns = "turns unreadable (doctor)" if count < 0 else turns
        typer.echo(
            f"{spec.thread_id}\t{kind}\t{', '.join(spec.cast)}\t{spec.created[:19]}\t{turns}"
        )


@app.command()
@command
def models(home: Home = None, as_json: JsonFlag = False) -> None:
    """List the models that ship with the install: where each file is, and whether it is
    there yet (gemma3-270m is made from its package on first use)."""
    from dramatis.agents.catalog import MADE_ON_FIRST_USE, bundled_file

    cache = Settings.load(home=home).cache_dir
    rows = []
    for name, (package, install, about) in BUNDLED.items():
        path, installed = bundled_file(name, cache)
        present = path is not None and path.is_file()
        rows.append({"name": name, "package": package, "install": install, "description": about,
                     "path": str(path) if path else None, "present": present,
                     "installed": installed})  # fmt: skip
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        state = "present" if row["present"] else f"missing: run `{row['install']}`"
        if row["installed"] and row["name"] in MADE_ON_FIRST_USE and not row["present"]:
            state = "made on first use"
        typer.echo(f"{row['name']}\t{row['description']}\t{row['path'] or '-'} ({state})")


@app.command()
@command
def doctor(home: Home = None) -> None:
    """Check the state folder, scenes, adapters, cast and models; change nothing."""
    from dramatis.doctor import diagnose

    findings = diagnose(Settings.load(home=home))
    for finding in findings:
        typer.echo(finding.line())
    if bad := sum(not f.ok for f in findings):
        typer.echo(f"{bad} problem(s) found; nothing was changed", err=True)
        raise typer.Exit(2)


def guarded(sub: typer.Typer) -> typer.Typer:
    """A copy of a room's sub-app whose commands run as `command` wraps them (a
    DramatisError as one line, piped output whole).

    A copy, so the room's own app (which its tests drive) keeps raising the error."""
    out = copy.copy(sub)
    out.registered_commands = []
    for sub_command in sub.registered_commands:
        wrapped = copy.copy(sub_command)
        wrapped.callback = command(sub_command.callback)
        out.registered_commands.append(wrapped)
    return out


def _mount_personas() -> None:
    from dramatis.personas.cli import personas_app, play_app
    from dramatis.reader_cards import card_command

    personas_app.command("card")(card_command)  # needs the memory graph: mounted here

    app.add_typer(guarded(play_app), name="play", help="Parse plays and show parse figures.")
    app.add_typer(
        guarded(personas_app), name="personas", help="Show the characters built from the plays."
    )


_mount_personas()


def _mount_training() -> None:
    from dramatis.training.cli import adapters_app, train_cmd

    app.command("train")(command(train_cmd))
    app.add_typer(
        guarded(adapters_app), name="adapters", help="List, activate, roll back, remove adapters."
    )


_mount_training()


def _mount_arena() -> None:
    from dramatis.arena.cli import arena_app

    app.add_typer(guarded(arena_app), name="arena", help="Score runs, run suites, write reports.")


_mount_arena()


def _mount_serve() -> None:
    from dramatis.serve_cli import serve_cmd

    app.command("serve")(command(serve_cmd))


_mount_serve()


def _mount_chat() -> None:
    from dramatis.tui.cli import chat_cmd

    app.command("chat")(command(chat_cmd))


_mount_chat()


def _mount_prompt() -> None:
    from dramatis.prompt_cli import prompt_cmd

    app.command("prompt")(command(prompt_cmd))


_mount_prompt()


def _mount_lore() -> None:
    from dramatis.personas.lore_cli import lore_app

    app.add_typer(guarded(lore_app), name="lore", help="World info (lorebooks) for scenes.")


_mount_lore()


def _mount_memory() -> None:
    from dramatis.memory.cli import memory_app

    app.add_typer(
        guarded(memory_app),
        name="memory",
        help="Index plays into memory; show what a character knows.",
    )


_mount_memory()


def main() -> None:
    try:
        app()
    except DramatisError as err:  # raised outside a command, e.g. while mounting
        typer.echo(f"error: {err}", err=True)
        raise SystemExit(2) from None
