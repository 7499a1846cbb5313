"""Prompt formats by name: how a `PromptInput` becomes the text a model continues.

Each format is registered once here. Everything that names a format reads this
registry: `--format` and `--set prompt_format` (checked at the edge), `dramatis serve
--format`, the agents, training pairs (`training/dataset.py`, `training/trainer.py`) and
the arena's echo metric, which checks a speech against every format's words.

A format from outside the package joins with `register_format`:

    register_format(PromptFormat("brief", "one line of setting", render=..., words=...))

and `dramatis stage --format brief` then uses it (docs/architecture.md, "How to add a
prompt format"). What the shipped formats say, and why in that order, is in
agents/prompts.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dramatis.agents.model import Message, PromptModel
from dramatis.agents.prompts import PromptInput, chat_messages, page_prompt, script_prompt
from dramatis.core.errors import DramatisError


@dataclass(frozen=True)
class PromptFormat:
    """A registered prompt format.

    render: the prompt text for a model (None: this model cannot take the format).
    words: the prompt's words without any model's template (what the echo metric checks).
    stops: what ends a speech besides the other speakers' headings.
    examples: whether the prompt shows the speaker's real exchanges (a voice source's).
    template: whether the model needs a chat template (refused up front without one).
    page_target: a trained target is " speech\\n" after the heading, and no end token
    (the next heading ends the turn); otherwise the speech and the end-of-turn token.
    """

    name: str
    help: str
    render: Callable[[PromptModel, PromptInput], str | None]
    words: Callable[[PromptInput], str]
    stops: tuple[str, ...] = ()
    examples: bool = False
    template: bool = False
    page_target: bool = False


_REGISTRY: dict[str, PromptFormat] = {}
AUTO = "auto"  # not a format: chat where the model has a template, else script


def register_format(fmt: PromptFormat) -> PromptFormat:
    """Add a format (a name already taken is refused)."""
    if fmt.name in _REGISTRY or fmt.name == AUTO:
        raise ValueError(f"a prompt format named {fmt.name!r} is registered already")
    _REGISTRY[fmt.name] = fmt
    return fmt


def unregister_format(name: str) -> None:
    """Remove a format added with `register_format` (a no-op for other names)."""
    _REGISTRY.pop(name, None)


def format_names() -> tuple[str, ...]:
    """Every name `--format` takes, the default first and "auto" beside it:
    ("page", "auto", "chat", "script", ...)."""
    first, *rest = _REGISTRY
    return (first, AUTO, *rest)


def formats() -> list[PromptFormat]:
    """Every registered format, shipped ones first."""
    return list(_REGISTRY.values())


def has_template(model: PromptModel) -> bool:
    return model.render_chat([Message("user", "Hello.")]) is not None


def get_format(name: str, model: PromptModel | None = None) -> PromptFormat:
    """The format `name` stands for; "auto" needs the model it is for. A one-line
    DramatisError for a name no one registered."""
    if name == AUTO:
        if model is None:
            raise ValueError("the auto format is chosen per model: pass the model")
        return _REGISTRY["chat" if has_template(model) else "script"]
    if name not in _REGISTRY:
        raise DramatisError(
            f"unknown prompt format {name!r}: use one of {', '.join(format_names())}"
        )
    return _REGISTRY[name]


def render(model: PromptModel, p: PromptInput, name: str) -> tuple[str, str]:
    """(prompt text, format name) of `p` in format `name` for `model`."""
    fmt = get_format(name, model)
    text = fmt.render(model, p)
    if text is None:
        raise DramatisError(
            f"--format {fmt.name}: model {model.name} cannot take it (no chat template): "
            "use --format page (the default) or --format script"
        )
    return text, fmt.name


def check_format(name: str, model: PromptModel, model_name: str) -> None:
    """Refuse a format the model cannot take before anything is said (and before a new
    scene is saved)."""
    fmt = get_format(name, model)
    if fmt.template and not has_template(model):
        raise DramatisError(
            f"--format {fmt.name}: model {model_name} has no chat template (a base model): "
            "use --format page (the default) or --format script"
        )


def _chat_words(p: PromptInput) -> str:
    return "\n".join(m.content for m in chat_messages(p))


register_format(
    PromptFormat(
        "page",
        "a page of the play, continued by any model (the default)",
        render=lambda _model, p: page_prompt(p),
        words=page_prompt,
        stops=("\n\n",),
        examples=True,
        page_target=True,
    )
)
register_format(
    PromptFormat(
        "chat",
        "an instruction in the model's chat template (instruction-tuned models)",
        render=lambda model, p: model.render_chat(chat_messages(p)),
        words=_chat_words,
        template=True,
    )
)
register_format(
    PromptFormat(
        "script",
        "a play script with a short preface (base models)",
        render=lambda _model, p: script_prompt(p),
        words=script_prompt,
        stops=("\n\n",),
    )
)
