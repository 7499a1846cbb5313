"""Imported character cards, kept under the state folder: cards/KEY.json (the card,
verbatim) and cards/KEY.png (its original image, when it came as a PNG)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from dramatis.core.errors import DramatisError
from dramatis.personas.card_files import PNG_SIGNATURE, card_from_bytes, card_json, parse_json
from dramatis.personas.cards import card_persona, check_card
from dramatis.personas.persona import Persona


def card_key(name: str) -> str:
    """File name of a card's character.

    card_key("Lady Macbeth") -> "lady_macbeth"; card_key("Zoë O'Hara") -> "zoë_o_hara"
    """
    return re.sub(r"[\W_]+", "_", name.strip().lower()).strip("_") or "unnamed"


class CardStore:
    """The imported cards of one state folder (Settings.home: passed in, never guessed)."""

    def __init__(self, home: Path) -> None:
        self.root = home / "cards"

    def save(self, card: dict[str, Any], image: bytes | None, *, force: bool = False) -> Path:
        """Keep a checked card; refuses to replace one already there unless `force`."""
        path = self.root / f"{card_key(card['data']['name'])}.json"
        if path.exists() and not force:
            raise DramatisError(
                f"a card for {card['data']['name']!r} is already imported ({path}): "
                "pass --force to replace it"
            )
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(card_json(card), encoding="utf-8")
        tmp.replace(path)  # never a half-written card
        picture = path.with_suffix(".png")
        if image is not None:
            picture.write_bytes(image)
        elif picture.exists() and force:
            picture.unlink()
        return path

    def keys(self) -> list[str]:
        return sorted(p.stem for p in self.root.glob("*.json")) if self.root.is_dir() else []

    def card(self, name: str) -> dict[str, Any] | None:
        """The saved card of `name` (any spelling card_key folds together), or None."""
        path = self.root / f"{card_key(name)}.json"
        if not path.is_file():
            return None
        if path.stat().st_size == 0:
            raise DramatisError(f"imported card {path} is empty: import it again with --force")
        return check_card(parse_json(path.read_bytes(), str(path)), str(path))

    def image(self, name: str) -> bytes | None:
        """The original PNG of an imported card, if it came as one."""
        path = self.root / f"{card_key(name)}.png"
        return path.read_bytes() if path.is_file() else None

    def persona(self, name: str, user: str = "User") -> Persona | None:
        card = self.card(name)
        return card_persona(card, user) if card is not None else None

    def personas(self) -> list[Persona]:
        return [p for key in self.keys() if (p := self.persona(key)) is not None]


def import_card(path: Path, store: CardStore, *, force: bool = False) -> Persona:
    """Read a card file, keep it in `store`, and give back its persona."""
    try:
        blob = Path(path).read_bytes()
    except OSError as exc:
        raise DramatisError(f"cannot read card {path}: {exc.strerror}") from None
    card = card_from_bytes(blob, str(path))
    image = blob if blob.startswith(PNG_SIGNATURE) else None
    persona = card_persona(card)
    store.save(card, image, force=force)
    return persona
