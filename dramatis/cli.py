"""The `dramatis` command line: stage and resume scenes, inspect plays and personas."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.live import Live
from rich.text import Text

from dramatis.agents.catalog import BUNDLED
from dramatis.agents.scene import Partial
from dramatis.agents.scene_store import SceneSpec, SceneStore
from dramatis.core.errors import DramatisError, user_errors
from dramatis.core.settings import Settings

app = typer.Typer(
    help="Stage conversations between character agents.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
COLOURS = ["bold cyan", "bold magenta", "bold green", "bold yellow", "bold blue", "bold red"]

Home = Annotated[
    Path | None, typer.Option(help="State folder (scenes db, caches); env DRAMATIS_HOME.")
]
Threads = Annotated[int | None, typer.Option(help="llama.cpp threads; env DRAMATIS_THREADS.")]


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
        note = {"play": "from the play", "fallback": "fallback: a line from the play"}
        self.console.print(self.line(turn["speaker"], turn["text"], note.get(turn["source"], "")))


def _play_scene(
    spec: SceneSpec,
    store: SceneStore,
    settings: Settings,
    turns: int,
    out: Path,
    opening: list | None = None,
) -> None:
    from dramatis.staging import build_scene
    from dramatis.transcript import write_transcript

    console = Console()
    staged = build_scene(spec, store, settings)
    for note in staged.notes:
        console.print(f"[dim]{note}[/dim]")
    printer = TurnPrinter(console, spec.cast)
    console.print(Text(spec.setting, style="italic dim"))
    for turn in staged.scene.turns(spec.thread_id):  # what was said before a resume
        printer.turn(turn)
    try:
        for event in staged.scene.run(spec.thread_id, turns, opening):
            if isinstance(event, Partial):
                printer.partial(event)
            else:
                printer.turn(event)
                write_transcript(out, spec, staged.scene.turns(spec.thread_id))
    except KeyboardInterrupt:
        printer.stop()
        saved = staged.scene.turns(spec.thread_id)
        write_transcript(out, spec, saved)
        console.print(
            f"\n[yellow]interrupted[/yellow]: {len(saved)} turns saved; continue with "
            f"dramatis resume {spec.thread_id}"
        )
        raise typer.Exit(130) from None
    all_turns = staged.scene.turns(spec.thread_id)
    write_transcript(out, spec, all_turns)
    console.print(
        f"\n[dim]{len(all_turns)} turns · transcript in {out} · thread id[/dim] "
        f"[bold]{spec.thread_id}[/bold]"
    )
    console.print(f"[dim]continue with:[/dim] dramatis resume {spec.thread_id} --turns 4")


@app.command()
@user_errors
def stage(
    cast: Annotated[str, typer.Option(help="Comma-separated characters, e.g. 'Hamlet,Ophelia'.")],
    scene: Annotated[
        str | None,
        typer.Option(help="Seed from a scene of a play: PLAY:ACT.SCENE, e.g. hamlet:3.1."),
    ] = None,
    setting: Annotated[str | None, typer.Option(help="Describe the setting yourself.")] = None,
    turns: Annotated[int, typer.Option(min=1, help="Turns to generate.")] = 12,
    seed: Annotated[int, typer.Option(help="Sampling and speaker-choice seed.")] = 7,
    model: Annotated[
        str | None, typer.Option(help=f"Bundled model ({', '.join(BUNDLED)}) or a .gguf path.")
    ] = None,
    policy: Annotated[
        str, typer.Option(help="Speaker policy: addressed | round-robin.")
    ] = "addressed",
    max_tokens: Annotated[int, typer.Option(min=8, help="Token limit per speech.")] = 60,
    temperature: Annotated[float, typer.Option(min=0.0, help="Sampling temperature.")] = 0.8,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default runs/THREAD_ID).")
    ] = None,
    home: Home = None,
    threads: Threads = None,
    adapters: Annotated[
        bool, typer.Option("--adapters", help="Each character speaks with its active LoRA adapter.")
    ] = False,
    memory: Annotated[
        bool,
        typer.Option(help="Characters remember the play up to the scene, and the scene itself."),
    ] = False,
) -> None:
    """Stage a new scene and stream it."""
    from dramatis.agents.policies import make_policy
    from dramatis.personas import find_persona
    from dramatis.staging import default_setting, new_thread_id, opening_from_play, parse_cast

    settings = Settings.load(home=home, n_threads=threads, model=model).ensure()
    names = [find_persona(n).name for n in parse_cast(cast)]
    make_policy(policy)  # fail on a bad name before loading anything
    opening: list = []
    scene_setting = setting or default_setting(names)
    if scene:
        play_setting, opening = opening_from_play(scene)
        scene_setting = setting or play_setting
    spec = SceneSpec(
        thread_id=new_thread_id(names),
        cast=names,
        setting=scene_setting,
        source_scene=scene,
        model=settings.model,
        seed=seed,
        policy=policy,
        agent={"max_tokens": max_tokens, "temperature": temperature},
        adapters=adapters,
        memory=memory,
    )
    store = SceneStore(settings.scenes_db)
    store.save(spec)
    _play_scene(spec, store, settings, turns, out or Path("runs") / spec.thread_id, opening)


@app.command()
@user_errors
def resume(
    thread_id: Annotated[str, typer.Argument(help="Thread id printed by `dramatis stage`.")],
    turns: Annotated[int, typer.Option(min=1, help="Turns to add.")] = 4,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default runs/THREAD_ID).")
    ] = None,
    home: Home = None,
    threads: Threads = None,
) -> None:
    """Continue a saved scene from its last checkpoint."""
    settings = Settings.load(home=home, n_threads=threads).ensure()
    store = SceneStore(settings.scenes_db)
    spec = store.load(thread_id)
    _play_scene(spec, store, settings, turns, out or Path("runs") / thread_id)


@app.command()
@user_errors
def scenes(home: Home = None) -> None:
    """List saved scenes."""
    settings = Settings.load(home=home).ensure()
    store = SceneStore(settings.scenes_db)
    for thread_id in store.ids():
        spec = store.load(thread_id)
        typer.echo(f"{thread_id}\t{', '.join(spec.cast)}\t{spec.created[:19]}")


@app.command()
def models() -> None:
    """List the models that ship with the install."""
    for name, (_, install, about) in BUNDLED.items():
        typer.echo(f"{name}\t{about}\t({install})")


def _mount_personas() -> None:
    from dramatis.personas.cli import personas_app, play_app

    for sub in (play_app, personas_app):
        for command in sub.registered_commands:
            command.callback = user_errors(command.callback)
    app.add_typer(play_app, name="play", help="Parse plays and show parse figures.")
    app.add_typer(personas_app, name="personas", help="Show the characters built from the plays.")


_mount_personas()


def _mount_training() -> None:
    from dramatis.training.cli import adapters_app, train_cmd

    for command in adapters_app.registered_commands:
        command.callback = user_errors(command.callback)
    app.command("train")(user_errors(train_cmd))
    app.add_typer(adapters_app, name="adapters", help="List, activate, roll back, remove adapters.")


_mount_training()


def _mount_arena() -> None:
    from dramatis.arena.cli import arena_app

    for command in arena_app.registered_commands:
        command.callback = user_errors(command.callback)
    app.add_typer(arena_app, name="arena", help="Score runs, run suites, write reports.")


_mount_arena()


def _mount_memory() -> None:
    from dramatis.memory.cli import memory_app

    for command in memory_app.registered_commands:
        command.callback = user_errors(command.callback)
    app.add_typer(
        memory_app, name="memory", help="Index plays into memory; show what a character knows."
    )


_mount_memory()


def main() -> None:
    try:
        app()
    except DramatisError as err:  # raised outside a command, e.g. while mounting
        typer.echo(f"error: {err}", err=True)
        raise SystemExit(2) from None
