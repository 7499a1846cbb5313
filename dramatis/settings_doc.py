"""docs/settings.md, generated from the settings classes, their comments and their rules.

    .venv/bin/python -m dramatis.settings_doc > docs/settings.md

tests/test_settings_doc.py fails when the file is not what this writes, so a new field
(or a changed default, range or comment) reaches the reference in the same commit.
"""

from __future__ import annotations

import inspect
import io
import tokenize
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

from dramatis.agents.character import AgentSettings
from dramatis.agents.settings_check import rule_for
from dramatis.core.settings import ENV, Settings

# Settings field -> the option that sets it, on the commands that take one.
OPTIONS = {
    "home": "--home",
    "model": "--model",
    "n_threads": "--threads",
    "memory_store": "--store",
}


def field_comments(cls: type) -> dict[str, str]:
    """Each field's comments in the class source: the lines above it and the one after it.

    For `# a\\n x: int = 1  # b` -> {"x": "a b"}
    """
    source = inspect.getsource(cls)
    out: dict[str, str] = {}
    above: list[str] = []
    lines = source.splitlines()
    comments = {
        tok.start[0]: tok.string.lstrip("# ").strip()
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type == tokenize.COMMENT
    }
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if text.startswith("#"):
            above.append(comments[number])
            continue
        name = text.split(":", 1)[0]
        if ":" in text and name.isidentifier() and not text.startswith(("def ", "class ")):
            out[name] = " ".join([*above, *([comments[number]] if number in comments else [])])
        above = []
    return out


def shown(value: Any) -> str:
    """A default as the reference prints it: the home folder as ~, text quoted."""
    if isinstance(value, Path):
        return f"`{str(value).replace(str(Path.home()), '~', 1)}`"
    if value is None:
        return "none"
    return f'`"{value}"`' if isinstance(value, str) else f"`{value}`"


def bounds(metadata: list[Any]) -> str:
    """pydantic's Field(gt=..., ge=...) in words: [Ge(ge=0)] -> "0 or more"."""
    words = [f"above {m.gt}" for m in metadata if hasattr(m, "gt")]
    words += [f"{m.ge} or more" for m in metadata if hasattr(m, "ge")]
    return ", ".join(words) or "any"


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def settings_table() -> list[str]:
    comments = field_comments(Settings)
    rows = [
        "| setting | option | environment | default | accepts | notes |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, info in Settings.model_fields.items():
        option = f"`{OPTIONS[name]}`" if name in OPTIONS else ""
        env = f"`{ENV[name][0]}`" if name in ENV else ""
        rows.append(
            f"| `{name}` | {option} | {env} | {shown(info.default)} | "
            f"{bounds(info.metadata)} | {cell(comments.get(name, ''))} |"
        )
    return rows


def agent_table() -> list[str]:
    comments = field_comments(AgentSettings)
    rows = ["| key | type | default | accepts | notes |", "| --- | --- | --- | --- | --- |"]
    for f in fields(AgentSettings):
        default = f.default if f.default is not MISSING else None
        kind = type(default).__name__
        rule = rule_for(f.name)
        accepts = "true or false" if kind == "bool" else rule.text()
        notes = " ".join(n for n in (comments.get(f.name, ""), rule.why and f"({rule.why})") if n)
        rows.append(f"| `{f.name}` | {kind} | {shown(default)} | {accepts} | {cell(notes)} |")
    return rows


def render() -> str:
    from dramatis.cli import STAGE_DEFAULTS

    stage_defaults = ", ".join(f"`{k}={v}`" for k, v in STAGE_DEFAULTS.items())
    parts = [
        "# Settings reference",
        "",
        "Generated from the settings classes by `.venv/bin/python -m dramatis.settings_doc >",
        "docs/settings.md`; `tests/test_settings_doc.py` fails when this file is stale. Do not",
        "edit it by hand.",
        "",
        "## State and model (`Settings`, dramatis/core/settings.py)",
        "",
        "Loaded once per command: defaults, then the environment, then the command's options.",
        "A bad value is one line naming the option or variable it came from.",
        "",
        *settings_table(),
        "",
        "## Agent settings (`AgentSettings`, agents/character.py)",
        "",
        "How each character speaks. Set any of them with `dramatis stage --set KEY=VALUE`",
        "(repeatable), or in an arena suite under a configuration's `agent:`. `stage`'s",
        "`--max-tokens`, `--temperature` and `--format` are the same settings as `max_tokens`,",
        "`temperature` and `prompt_format`; `--set` is applied last, so it wins over them.",
        f"`dramatis stage` starts from {stage_defaults} (its `STAGE_DEFAULTS`). Every value is",
        "checked against the range below before a model loads (agents/settings_check.py): one",
        "out of range is a one-line error naming the key.",
        "",
        *agent_table(),
        "",
    ]
    return "\n".join(parts)


if __name__ == "__main__":
    print(render(), end="")
