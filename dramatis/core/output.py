"""Command output piped into another program is never cut.

rich sizes a Console made without a width from the terminal, or, when standard output is
not one, from COLUMNS, else 80 columns: a table wider than that shrinks its cells to
"attributi…" and "Ophel…", and `| grep Ophelia` finds nothing. While a command runs with
standard output piped, `piped_width` gives every Console it makes PIPED_WIDTH columns, so
a table prints at its own full width with whole names and a line is not wrapped. On a
terminal nothing changes. `--json` stays the machine format.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

# Wider than any table the commands print (a table takes only the width it needs; a
# `console.rule` spans all of it).
PIPED_WIDTH = 1000

F = TypeVar("F", bound=Callable[..., Any])


def is_piped(stream: Any = None) -> bool:
    """Whether `stream` (standard output by default) goes somewhere other than a terminal."""
    stream = sys.stdout if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return not (isatty and isatty())


@contextmanager
def piped_width() -> Iterator[None]:
    """Inside: a rich Console made without a width is PIPED_WIDTH wide when standard
    output is piped (rich reads COLUMNS when a Console is made); COLUMNS is put back after."""
    if not is_piped():
        yield
        return
    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(PIPED_WIDTH)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = before


def whole_output(fn: F) -> F:
    """Decorate a command: it runs inside `piped_width` (its --help, printed before it
    runs, keeps the usual width)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with piped_width():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
