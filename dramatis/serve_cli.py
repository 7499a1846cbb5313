"""`dramatis serve`: start the OpenAI-compatible server (FastAPI imported only here)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated

import typer

from dramatis.agents.character import AgentSettings
from dramatis.agents.formats import format_names
from dramatis.core.errors import DramatisError
from dramatis.core.settings import Settings


def is_loopback(host: str) -> bool:
    """Whether `host` binds to this machine only.

    is_loopback("127.0.0.1") -> True; is_loopback("0.0.0.0") -> False
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_format(fmt: str) -> str:
    """The prompt format named by --format, lower case; DramatisError for another word.

    check_format("Chat") -> "chat"
    """
    if fmt.strip().lower() not in format_names():
        raise DramatisError(f"--format {fmt!r}: use {', '.join(format_names())}")
    return fmt.strip().lower()


def serve_cmd(
    host: Annotated[
        str, typer.Option(help="Interface to bind; loopback by default.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    api_key: Annotated[
        str | None,
        typer.Option(
            help="Require this bearer key; env DRAMATIS_API_KEY.", envvar="DRAMATIS_API_KEY"
        ),
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Bundled model, a .gguf path, or openai:URL#MODEL.")
    ] = None,
    adapters: Annotated[
        bool,
        typer.Option("--adapters", help="Each character answers with its active LoRA adapter."),
    ] = False,
    max_tokens: Annotated[int, typer.Option(min=8, help="Default token limit per reply.")] = 120,
    prompt_format: Annotated[
        str | None,
        typer.Option(
            "--format", help=f"Prompt format: {' | '.join(format_names())} (page by default)."
        ),
    ] = None,
    home: Annotated[Path | None, typer.Option(help="State folder; env DRAMATIS_HOME.")] = None,
    threads: Annotated[
        int | None, typer.Option(help="llama.cpp threads; env DRAMATIS_THREADS.")
    ] = None,
    max_body_mb: Annotated[
        float, typer.Option(min=0.01, help="Largest request body in MiB (413 above).")
    ] = 1.0,
    queue: Annotated[
        int, typer.Option(min=0, help="Requests that may wait for the model (429 beyond).")
    ] = 8,
    wait: Annotated[
        float, typer.Option(min=0.1, help="Longest wait in that line, seconds (503 after).")
    ] = 60.0,
    timeout: Annotated[
        float, typer.Option(min=1.0, help="Longest reply of one request, seconds (504 after).")
    ] = 300.0,
    stage_voice: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=2.0,
            help="Scale of the stage voice under every character (default: 1 where one "
            "exists for the model); 0: off.",
        ),
    ] = None,
) -> None:
    """Serve the characters as OpenAI-compatible models (/v1/models, /v1/chat/completions,
    /v1/completions); one reply at a time, --queue waiting."""
    if not is_loopback(host) and not api_key:
        raise DramatisError(
            f"--host {host} opens the server beyond this machine: set --api-key too "
            "(or bind 127.0.0.1)"
        )
    fmt = check_format(prompt_format or AgentSettings.prompt_format)
    try:
        import uvicorn

        from dramatis.serve import ServeState, create_app
    except ImportError as err:
        raise DramatisError(
            f"the server needs the serve extra ({err.name} missing): pip install 'dramatis[serve]'"
        ) from None
    from dramatis.agents.catalog import open_model, parse_model
    from dramatis.agents.model import Message

    settings = Settings.load(home=home, n_threads=threads, model=model).ensure()
    loaded = open_model(parse_model(settings.model), settings)
    if fmt == "chat" and loaded.render_chat([Message("user", "?")]) is None:
        raise DramatisError(
            f"--format chat: model {settings.model} has no chat template: use page or script"
        )
    voice_scale = mount_voice(loaded, settings, stage_voice)
    state = ServeState(
        voice_scale=voice_scale,
        settings=settings,
        model=loaded,
        api_key=api_key,
        adapters=adapters,
        default_max_tokens=max_tokens,
        prompt_format=fmt,
        max_body=int(max_body_mb * 2**20),
        queue=queue,
        wait_s=wait,
        timeout_s=timeout,
    )
    typer.echo(
        f"dramatis: characters as OpenAI models at http://{host}:{port}/v1 "
        f"(model {settings.model}, {fmt} format{', key required' if api_key else ''})"
    )
    uvicorn.run(create_app(state), host=host, port=port, log_level="warning")


def mount_voice(model, settings: Settings, scale: float | None) -> float:
    """Stack the stage voice under every character as `dramatis stage` does: at `scale`,
    or by default at 1 where a voice exists for a local model's base. The scale it used
    (0: none)."""
    from dramatis.staging import default_voice_scale

    scale = default_voice_scale(model, settings) if scale is None else scale
    if not scale:
        return 0.0
    path = getattr(model, "path", None)
    if path is None:
        raise DramatisError("--stage-voice stacks adapters on a local llama.cpp model only")
    from dramatis.training.serving import mount_stage_voice

    typer.echo("dramatis: " + mount_stage_voice(model, settings, Path(path), scale))
    return scale
