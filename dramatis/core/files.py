"""Reading the JSON files the tool saved: a damaged one is named, never a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from dramatis.core.errors import DramatisError

M = TypeVar("M", bound=BaseModel)


def first_problem(err: ValidationError) -> str:
    """The first thing pydantic found wrong, as "field: message".

    A missing `play` -> "play: Field required"; bad JSON -> "not valid JSON (...)".
    """
    first = err.errors()[0]
    if first["type"] == "json_invalid":
        return f"not valid JSON ({first['ctx'].get('error', first['msg'])})"
    field = ".".join(str(part) for part in first["loc"]) or "(top level)"
    return f"{field}: {first['msg']}"


def load_json_model(path: Path, model: type[M], fix: str) -> M:
    """`path` parsed as `model`, or a DramatisError naming the file, the problem and `fix`."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        why = err.strerror if isinstance(err, OSError) else "not UTF-8 text"
        raise DramatisError(f"cannot read {path} ({why}): {fix}") from None
    try:
        return model.model_validate_json(text)
    except ValidationError as err:
        raise DramatisError(f"{path} is damaged: {first_problem(err)}: {fix}") from None
