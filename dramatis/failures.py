"""The one error path of the command line.

Every command runs inside `CheckedGroup.invoke`:
- a `DramatisError` (a user's mistake: a name, a path, a damaged file) prints as one
  line, `error: ...`, and exits 2;
- anything else is a bug: one line naming the exception and a saved traceback under
  HOME/logs/, exit 1; `dramatis --debug ...` (or DRAMATIS_DEBUG=1) shows it instead;
- typer's own exits, usage errors and Ctrl-C pass through untouched.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from dramatis.core.errors import DramatisError
from dramatis.core.settings import default_home

EXIT_USER = 2  # the input or the saved state needs fixing
EXIT_BUG = 1  # unexpected: a traceback was saved
EXIT_PIPE = 141  # the reader of standard output closed it (128 + SIGPIPE, as shells say)


def home_from_args(args: Sequence[str]) -> Path | None:
    """The value of a `--home` option among a command's arguments, if any.

    home_from_args(["stage", "--home", "/tmp/h"]) -> Path("/tmp/h")
    """
    for i, arg in enumerate(args):
        if arg.startswith("--home="):
            return Path(arg.split("=", 1)[1])
        if arg == "--home" and i + 1 < len(args):
            return Path(args[i + 1])
    return None


def one_line(err: BaseException, limit: int = 200) -> str:
    """An exception as one short line.

    one_line(ValueError("bad\\nthing")) -> "ValueError: bad thing"
    """
    text = " ".join(str(err).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def log_folders(home: Path | None) -> list[Path]:
    """Where a traceback may go, best first: HOME/logs, then the system temp folder."""
    folders = []
    with contextlib.suppress(OSError, RuntimeError):  # no home directory at all
        folders.append((home or default_home()) / "logs")
    return [*folders, Path(tempfile.gettempdir()) / "dramatis-logs"]


def save_traceback(err: BaseException, home: Path | None) -> Path | None:
    """Write `err`'s full traceback to a new file; its path, or None if nowhere works."""
    text = "".join(traceback.format_exception(err))
    name = f"traceback-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.txt"
    for folder in log_folders(home):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    return None


def report_bug(err: Exception, home: Path | None) -> None:
    """One line for an unexpected error, pointing at the saved traceback."""
    path = save_traceback(err, home)
    where = f"traceback saved to {path}" if path else "the traceback could not be saved"
    typer.echo(
        f"error: unexpected {one_line(err)} ({where}; rerun with --debug to see it, "
        "and please report it)",
        err=True,
    )


class CheckedGroup(TyperGroup):
    """The root command group: every subcommand's errors go through `invoke`."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except DramatisError as err:
            typer.echo(f"error: {err}", err=True)
            raise typer.Exit(EXIT_USER) from None
        except BrokenPipeError:
            # The reader of our output went away (`dramatis train --help | head`): not a
            # bug. Standard output goes to /dev/null so the final flush is quiet too.
            with contextlib.suppress(OSError, ValueError):  # no file descriptor: nothing to do
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(EXIT_PIPE) from None
        except Exception as err:
            if type(err).__module__.startswith(("typer", "click")):
                raise  # usage errors: typer prints them itself
            if ctx.params.get("debug"):
                raise
            args = [*getattr(ctx, "_protected_args", []), *ctx.args]
            report_bug(err, home_from_args(args))
            raise typer.Exit(EXIT_BUG) from None
