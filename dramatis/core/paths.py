"""Folders the tool writes to: made on demand, refused in one line when they cannot be.

A state folder that is really a file, an output folder under /proc, a folder without
write permission: each is a user's mistake to fix, not a traceback.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from dramatis.core.errors import DramatisError


def folder_problem(err: OSError) -> str:
    """Why a folder could not be made, in words.

    folder_problem(FileExistsError(errno.EEXIST, "x")) -> "a file is in the way"
    """
    if isinstance(err, (FileExistsError, NotADirectoryError)) or err.errno in (
        errno.EEXIST,
        errno.ENOTDIR,
    ):
        return "a file is in the way"
    if isinstance(err, PermissionError):
        return "permission denied"
    return err.strerror or type(err).__name__


def ensure_folder(path: Path, what: str, fix: str = "") -> Path:
    """Make `path` (and its parents) a folder we can write, or raise a DramatisError
    naming `what` (e.g. "--out") and `fix`."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-check-"):
            pass
    except OSError as err:
        raise DramatisError(
            f"{what} {path} cannot be used as a folder ({folder_problem(err)}): "
            f"{fix or f'give {what} a folder you can write'}"
        ) from None
    return path


def atomic_write(path: Path, text: str) -> None:
    """Replace `path` with `text` in one step: a reader (or a crash) sees the old file
    or the new one, never half of either."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
