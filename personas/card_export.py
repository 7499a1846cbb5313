"""Write a persona out as a Character Card file: JSON, or PNG with a portrait."""

from __future__ import annotations

from pathlib import Path

from dramatis.core.errors import DramatisError
from dramatis.personas.card_files import card_json, card_png
from dramatis.personas.card_store import CardStore, card_key
from dramatis.personas.cards import persona_card
from dramatis.personas.corpus import load_play
from dramatis.personas.persona import Persona
from dramatis.personas.portrait import portrait_png
from dramatis.personas.reader import greeting

FORMATS = ("png", "json")


def card_bytes(persona: Persona, fmt: str, *, v3: bool, home: Path) -> bytes:
    """The card file's bytes: the image imported into `home` when there is one, else a
    portrait."""
    card = persona_card(persona, v3=v3)
    if persona.card_source is None and not persona.first_mes:
        play = load_play(persona.play)  # a play persona greets with an entrance line
        card["data"]["first_mes"] = greeting(play, persona.name) or card["data"]["first_mes"]
    if fmt == "json":
        return card_json(card).encode("utf-8")
    image = CardStore(home).image(persona.name) if persona.card_source is not None else None
    return card_png(card, image or portrait_png(persona.name, persona.play_title))


def export_persona(
    persona: Persona, fmt: str, *, v3: bool, out: Path | None, home: Path, force: bool = False
) -> Path:
    """Write the card; never overwrites a file unless `force`. `home`: the state folder
    a card was imported into (its original image is reused)."""
    fmt = fmt.lower().lstrip(".")
    if fmt not in FORMATS:
        raise DramatisError(f"--format {fmt!r}: use png or json")
    path = out or Path(f"{card_key(persona.name)}.{fmt}")
    if path.exists() and not force:
        raise DramatisError(f"{path} exists: pass --force to overwrite it or --out another file")
    data = card_bytes(persona, fmt, v3=v3, home=home)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise DramatisError(f"cannot write {path}: {exc.strerror}") from None
    return path
