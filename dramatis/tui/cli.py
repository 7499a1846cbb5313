"""`dramatis chat`: check the options, then open the Textual app (or serve it)."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from dramatis.agents.policies import policy_help
from dramatis.core.errors import DramatisError
from dramatis.core.settings import Settings

LOOPBACK = "127.0.0.1"


def chat_cmd(
    cast: Annotated[
        str | None, typer.Option(help="Comma-separated characters, e.g. 'Hamlet,Horatio'.")
    ] = None,
    scene: Annotated[
        str | None, typer.Option(help="Start from a scene of a play: PLAY:ACT.SCENE.")
    ] = None,
    as_: Annotated[
        str, typer.Option("--as", help="Who you are: 'You' or a character of the play.")
    ] = "You",
    name: Annotated[
        str, typer.Option(help="Your own name in the scene, e.g. 'Anna' (instead of You).")
    ] = "",
    rank: Annotated[
        str,
        typer.Option(
            help="Who you are, as the characters see it, e.g. 'a gentlewoman of Verona' "
            "(default: a stranger)."
        ),
    ] = "",
    resume: Annotated[
        str | None, typer.Option(help="Reopen a saved chat by its thread id.")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Bundled model or a .gguf path.")] = None,
    adapters: Annotated[
        bool, typer.Option("--adapters", help="Each character speaks with its active LoRA adapter.")
    ] = False,
    memory: Annotated[
        bool,
        typer.Option(
            "--memory/--no-memory",
            help="Characters remember the play and the chat; the side panel shows what the "
            "speaker recalls (run `dramatis memory index PLAY` once first).",
        ),
    ] = False,
    greeting: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Open with a card character's greeting N: 0 its first message, 1 on its "
            "alternate greetings (default: the first message).",
        ),
    ] = None,
    lore: Annotated[
        str,
        typer.Option(help="World info for the chat: lorebooks from `dramatis lore import`."),
    ] = "",
    seed: Annotated[int, typer.Option(help="Sampling and speaker-choice seed.")] = 7,
    policy: Annotated[str, typer.Option(help=policy_help())] = "addressed",
    max_tokens: Annotated[int, typer.Option(min=8, help="Token limit per speech.")] = 60,
    watch_turns: Annotated[int, typer.Option(min=1, help="Turns Ctrl+T lets them talk.")] = 4,
    serve: Annotated[
        bool, typer.Option("--serve", help="Serve the app to a browser (textual-serve).")
    ] = False,
    port: Annotated[int, typer.Option(help="Port for --serve (loopback only).")] = 8000,
    home: Annotated[Path | None, typer.Option(help="State folder; env DRAMATIS_HOME.")] = None,
    threads: Annotated[int | None, typer.Option(help="llama.cpp threads.")] = None,
) -> None:
    """Chat with characters in a terminal UI; resume later with --resume THREAD_ID."""
    if serve:
        serve_chat(sys.argv[1:], port)
        return
    from dramatis.agents.scene_store import SceneStore
    from dramatis.tui.session import ChatOptions, ChatSession, new_spec, open_chat

    settings = Settings.load(home=home, n_threads=threads, model=model).ensure()
    store = SceneStore(settings.scenes_db)
    if resume:
        spec = store.load(resume)  # fail on a bad id before the app starts
        if not spec.human:
            raise DramatisError(f"{resume!r} is a staged scene: use `dramatis resume {resume}`")
        load = lambda: open_chat(resume, store, settings)  # noqa: E731
    elif cast:
        options = ChatOptions(
            cast=cast, scene=scene, human=as_, name=name, rank=rank, model=settings.model,
            adapters=adapters,
            seed=seed, policy=policy, max_tokens=max_tokens, memory=memory, home=settings.home,
            greeting=greeting, lore=lore,
        )  # fmt: skip
        spec, opening = new_spec(options)
        load = lambda: ChatSession.start(spec, opening, store, settings)  # noqa: E731
    else:
        raise DramatisError("give --cast 'Hamlet,Horatio' for a new chat or --resume THREAD_ID")
    from dramatis.tui.app import ChatApp

    size = None
    if "TEXTUAL_DRIVER" in os.environ:  # a browser page's app process (textual-serve)
        from dramatis.tui.browser import page_size

        size = page_size()
    ChatApp(load, watch_turns=watch_turns).run(size=size)


def serve_command(argv: list[str]) -> str:
    """The command textual-serve runs per browser page: this one without --serve.

    serve_command(["chat", "--cast", "Hamlet", "--serve"]) -> "<python> -m dramatis chat --cast Hamlet"
    """
    args, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--serve" or arg.startswith("--port="):
            continue
        elif arg == "--port":
            skip = True
        else:
            args.append(arg)
    return shlex.join([sys.executable, "-m", "dramatis", *args])


def serve_chat(argv: list[str], port: int) -> None:
    """Serve the chat app on loopback: each browser page runs its own app process, which
    ends within seconds of its page closing (dramatis/tui/browser.py)."""
    from dramatis.tui.browser import serve_pages

    serve_pages(serve_command(argv), LOOPBACK, port, "dramatis chat")
