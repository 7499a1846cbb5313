"""`dramatis lore ...`: import SillyTavern world-info files, list and show them, and link
one to an imported card (its `extensions.world`, as SillyTavern does)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from dramatis.core.errors import DramatisError
from dramatis.core.settings import Settings
from dramatis.personas.card_store import CardStore
from dramatis.personas.world_info import LoreStore, entry_rules, import_world, lore_key

lore_app = typer.Typer(no_args_is_help=True, help="World info (lorebooks) for scenes.")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON only.")]
Home = Annotated[
    Path | None, typer.Option(help="State folder the lorebooks live in; env DRAMATIS_HOME.")
]


def store_of(home: Path | None) -> LoreStore:
    return LoreStore(Settings.load(home=home).home)


@lore_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="A SillyTavern world-info .json file.")],
    name: Annotated[str, typer.Option(help="Name to keep it under (default: its own).")] = "",
    force: Annotated[bool, typer.Option("--force", help="Replace a book imported before.")] = False,
    home: Home = None,
) -> None:
    """Import a SillyTavern world-info file as a lorebook for --lore."""
    store = store_of(home)
    book = import_world(file, store, name, force=force)
    key = lore_key(name or book.name or file.stem)
    typer.echo(
        f"imported lorebook {key} ({len(book.entries)} entries) into {store.root}; use it: "
        f"dramatis stage --cast ... --lore {key}"
    )


@lore_app.command("list")
def list_command(home: Home = None, as_json: JsonFlag = False) -> None:
    """The imported lorebooks and how many entries each has."""
    store = store_of(home)
    rows = [{"name": n, "entries": len(store.book(n).entries)} for n in store.names()]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        typer.echo(f"{row['name']}\t{row['entries']} entries")


@lore_app.command("show")
def show_command(
    name: Annotated[str, typer.Argument(help="An imported lorebook.")],
    home: Home = None,
    as_json: JsonFlag = False,
) -> None:
    """A lorebook's entries as they activate: order, keys, secondary keys and logic, where
    each goes, its probability and recursion rules."""
    book = store_of(home).book(name)
    if as_json:
        typer.echo(book.model_dump_json(indent=2))
        return
    logic = ["AND ANY", "NOT ALL", "NOT ANY", "AND ALL"]
    for entry in book.entries:
        when = "always" if entry.constant else ", ".join(entry.keys) or "never (no keys)"
        if entry.selective and entry.secondary_keys and not entry.constant:
            which = logic[entry.selective_logic or 0] if (entry.selective_logic or 0) < 4 else "?"
            when += f" + {which} of {', '.join(entry.secondary_keys)}"
        off = "" if entry.enabled else " (disabled)"
        rules = entry_rules(entry)
        typer.echo(f"[{entry.insertion_order:g}] {entry.comment or ''}{off}: {when}; {rules}")


@lore_app.command("attach")
def attach_command(
    name: Annotated[str, typer.Argument(help="An imported lorebook.")],
    card: Annotated[str, typer.Option(help="The imported card that uses it.")],
    home: Home = None,
) -> None:
    """Link a lorebook to an imported card (its extensions.world), as SillyTavern does."""
    state = Settings.load(home=home).home
    store, cards = LoreStore(state), CardStore(state)
    store.raw(name)  # there, or one line saying how to import it
    raw = cards.card(card)
    if raw is None:
        raise DramatisError(
            f"no imported card {card!r}: import it first with `dramatis personas import FILE`"
        )
    raw["data"].setdefault("extensions", {})["world"] = lore_key(name)
    cards.save(raw, cards.image(card), force=True)
    typer.echo(f"{raw['data']['name']}'s card now uses lorebook {lore_key(name)}")
