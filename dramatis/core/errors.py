"""User-facing errors: one clear line that names the input and the fix.

The CLI catches `DramatisError` and prints its message without a traceback;
anything else is a bug and keeps its stack trace.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class DramatisError(Exception):
    """A mistake in user input (a name, a path, a config field), not a bug."""


def closest(name: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """Closest spellings of `name` among `choices`, case-insensitive.

    closest("Hamlett", ["Hamlet", "Horatio"]) -> ["Hamlet"]
    """
    choices = list(choices)
    by_lower = {c.lower(): c for c in choices}
    hits = difflib.get_close_matches(name.lower(), list(by_lower), n=n, cutoff=0.5)
    return [by_lower[h] for h in hits]


def user_errors(fn):
    """Decorate a CLI command: a DramatisError becomes one red line and exit code 2."""
    import functools
    import sys

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except DramatisError as err:
            import typer

            print(f"error: {err}", file=sys.stderr)
            raise typer.Exit(2) from None

    return wrapper
