"""Imported character cards, kept under the state folder: cards/KEY.json (the card,
verbatim) and cards/KEY.png (its original image, when it came as a PNG)."""

from __future__ import annotations

import contextlib
import hashlib
import re
from pathlib import Path
from typing import Any

from dramatis.core.errors import DramatisError
from dramatis.personas.card_files import PNG_SIGNATURE, card_from_bytes, card_json, parse_json
from dramatis.personas.cards import card_persona, check_card
from dramatis.personas.persona import Persona

KEY_CHARS = 80  # a file name stays far below the 255 bytes file systems allow


def card_key(name: str) -> str:
    """File name of a card's character; a long name is cut and given a hash of the
    whole, so two long names that start alike stay apart.

    card_key("Lady Macbeth") -> "lady_macbeth"; card_key("Zoë O'Hara") -> "zoë_o_hara"
    """
    key = re.sub(r"[\W_]+", "_", name.strip().lower()).strip("_") or "unnamed"
    if len(key.encode("utf-8")) <= KEY_CHARS:
        return key
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
    return f"{key.encode('utf-8')[:KEY_CHARS].decode('utf-8', 'ignore')}_{digest}"


def write_error(path: Path, err: OSError) -> DramatisError:
    """The one line for a card that cannot be saved: where, why, and what to do."""
    why = err.strerror or type(err).__name__
    return DramatisError(
        f"cannot save the card as {path} ({why}): make {path.parent} a folder you can write, "
        "or import with --home set to one"
    )


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
        tmp, picture = path.with_suffix(".json.tmp"), path.with_suffix(".png")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            tmp.write_text(card_json(card), encoding="utf-8")
            if image is not None:
                picture.write_bytes(image)
            elif picture.exists() and force:
                picture.unlink()
            tmp.replace(path)  # never a half-written card, nor one without its picture
        except OSError as err:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise write_error(path, err) from None
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
    check_embedded(card, str(path))
    persona = card_persona(card)
    store.save(card, image, force=force)
    return persona


def check_embedded(card: dict[str, Any], source: str) -> None:
    """A card dramatis exported carries its play persona in extensions.dramatis; one that
    names a play we do not have, or a character who does not speak in it, is refused
    (an edited or forged card would otherwise stage lines the play never gave)."""
    from pydantic import ValidationError

    from dramatis.personas.corpus import list_plays, load_play

    saved = card["data"].get("extensions", {}).get("dramatis")
    if card["data"].get("creator") != "dramatis" or not isinstance(saved, dict):
        return
    fix = "remove extensions.dramatis (or the creator field) to import it as an ordinary card"
    try:
        persona = Persona.model_validate(saved)
    except ValidationError:
        return  # not a persona: card_persona reads it as an ordinary card
    if persona.play not in list_plays():
        raise DramatisError(
            f"{source}: extensions.dramatis names play {persona.play!r}, not one of the "
            f"plays here: {fix}"
        )
    speakers = {s.speaker.lower() for s in load_play(persona.play).speeches()}
    if persona.name.lower() not in speakers:
        raise DramatisError(
            f"{source}: extensions.dramatis names {persona.name!r}, who does not speak in "
            f"{persona.play}: {fix}"
        )
