"""SillyTavern world info: the standalone lorebook files its users share, as Lorebooks,
and where the entries that fire go on the page.

A world-info file is JSON: {"entries": {"0": {uid, key[], keysecondary[], content,
constant, selective, selectiveLogic, order, position, depth, probability, useProbability,
excludeRecursion, preventRecursion, delayUntilRecursion, disable, scanDepth,
caseSensitive, matchWholeWords, comment, ...}, ...}} (the entries may also come as a
list, and a "name" may sit beside them). Each entry becomes a LoreEntry
(personas/lorebook.py):

| SillyTavern | here | |
| --- | --- | --- |
| key, keysecondary | keys, secondary_keys | |
| selective, selectiveLogic | selective, selective_logic | AND ANY, NOT ALL, NOT ANY, AND ALL |
| constant, disable | constant, enabled | |
| order | insertion_order and priority | lower first in the prompt; higher kept first when over budget |
| scanDepth, caseSensitive, matchWholeWords | scan_depth, case_sensitive, match_whole_words | null: the defaults |
| position, depth | position, depth | where it goes on the page (below) |
| probability, useProbability | probability, use_probability | rolled on the turn's seed |
| excludeRecursion, preventRecursion, delayUntilRecursion | exclude_recursion, prevent_recursion, delay_until_recursion | personas/lorebook.py |
| everything else | kept on the entry | groups, timed effects, role, character filters: not applied |

Where an entry goes (`entry_place`, `lore_layout`). SillyTavern's chat prompt is: world
info before, the character's definition, world info after, the example dialogues, the
chat with depth insertions. The page (agents/prompts.py) has the same parts in the
same order: the list of persons is the characters' definitions, the voice samples (or
the real exchanges like the current talk) are the examples, the transcript is the chat.
So, each place holding one bracketed stage line of its entries, lowest order first:

| position | SillyTavern | on the page |
| --- | --- | --- |
| 0 | before the character definition (the default) | above the list of persons |
| 1 | after the character definition | below the list of persons |
| 5 | before the example messages | above the voice samples, or above the exchanges line |
| 6 | after the example messages | below them |
| 4 | at depth N in the chat (`depth`) | above the Nth speech from the end of the transcript (0: after the last), or above the first when N is deeper |
| 2, 3 | before/after the author's note | at depth 4 (the note's default depth; there is no note) |

The page has no roles, so an @depth entry's role (system, user, assistant) is not
applied; an unknown position counts as 1. A card's own character_book says "before_char"
or "after_char" (the V2 spec; its SillyTavern export keeps the number in
`extensions.position`), and an entry without any is after the definition, as
SillyTavern reads a card. Only the page format places lore: the chat and script
formats put all of it with the speaker's card, which is after the definition.
Moving lore above the persons costs prefix reuse (agents/prompts.py) on the turns
where the lore changes: SillyTavern's prompts pay the same.

Imported books live in the state folder, `lore/KEY.json`, verbatim, so an export gives
back the file as it came. A card names one in `data.extensions.world`; a scene attaches
more with `--lore` (personas/cli's lore commands import, list, show and attach them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dramatis.core.errors import DramatisError
from dramatis.personas.lorebook import (
    Lorebook,
    LoreEntry,
    recursion_flags,
    st_option,
    without_decorators,
)

MAX_LORE_BYTES = 32 * 1024 * 1024  # a world-info file above this is refused unread

# SillyTavern's world_info_position
BEFORE_CHAR, AFTER_CHAR, AN_TOP, AN_BOTTOM, AT_DEPTH, EM_TOP, EM_BOTTOM = range(7)
DEFAULT_DEPTH = 4  # an @depth entry's depth when it gives none (SillyTavern's)
NOTE_DEPTH = 4  # SillyTavern's author's note sits this deep in the chat by default
PLACES = {
    BEFORE_CHAR: "before_char",
    AFTER_CHAR: "after_char",
    EM_TOP: "before_examples",
    EM_BOTTOM: "after_examples",
}


def is_world_info(raw: Any) -> bool:
    """Whether a JSON value is a SillyTavern world-info file (not a character card).

    is_world_info({"entries": {"0": {"key": ["Elsinore"], "content": "..."}}}) -> True
    """
    return isinstance(raw, dict) and "entries" in raw and "spec" not in raw and "data" not in raw


def _strings(value: Any, where: str) -> list[str]:
    """A key list: a list of strings (or one comma-separated string, as old files have)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [k.strip() for k in value.split(",") if k.strip()]
    if isinstance(value, list) and all(isinstance(k, str) for k in value):
        return list(value)
    raise DramatisError(f"{where}: a list of keywords (strings) is expected")


def _number(value: Any, where: str, default: float | None = 0) -> float | None:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DramatisError(f"{where}: a number is expected, not {json.dumps(value)[:40]}")
    return value


def _flag(value: Any, where: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise DramatisError(f"{where}: true or false is expected, not {json.dumps(value)[:40]}")


def world_entry(raw: Any, where: str) -> dict[str, Any]:
    """One SillyTavern entry as LoreEntry fields; the entry's other fields kept beside them."""
    if not isinstance(raw, dict):
        raise DramatisError(f"{where}: an entry is a JSON object")
    content = raw.get("content", "")
    if not isinstance(content, str):
        raise DramatisError(f"{where}.content: text is expected")
    order = _number(raw.get("order"), f"{where}.order", 100)
    depth = _number(raw.get("scanDepth"), f"{where}.scanDepth", None)
    logic = _number(raw.get("selectiveLogic"), f"{where}.selectiveLogic", 0)
    position = _number(raw.get("position"), f"{where}.position", BEFORE_CHAR)
    at = _number(raw.get("depth"), f"{where}.depth", DEFAULT_DEPTH)
    chance = _number(raw.get("probability"), f"{where}.probability", 100)
    delay = raw.get("delayUntilRecursion")
    if not isinstance(delay, int) or isinstance(delay, bool):
        delay = _flag(delay, f"{where}.delayUntilRecursion")
    known = {"key", "keysecondary", "content", "constant", "selective", "selectiveLogic"}
    known |= {"order", "disable", "scanDepth", "caseSensitive", "matchWholeWords", "comment"}
    known |= {"position", "depth", "probability", "useProbability"}
    known |= {"excludeRecursion", "preventRecursion", "delayUntilRecursion"}
    comment = raw.get("comment")
    return {
        **{k: v for k, v in raw.items() if k not in known},
        "position": int(position or 0),
        "depth": max(int(at or 0), 0),
        "probability": min(max(float(chance if chance is not None else 100), 0.0), 100.0),
        "use_probability": _flag(raw.get("useProbability"), f"{where}.useProbability"),
        "exclude_recursion": _flag(raw.get("excludeRecursion"), f"{where}.excludeRecursion"),
        "prevent_recursion": _flag(raw.get("preventRecursion"), f"{where}.preventRecursion"),
        "delay_until_recursion": delay,
        "keys": _strings(raw.get("key"), f"{where}.key"),
        "secondary_keys": _strings(raw.get("keysecondary"), f"{where}.keysecondary"),
        "content": content,
        "constant": bool(_flag(raw.get("constant"), f"{where}.constant")),
        "selective": _flag(raw.get("selective", True), f"{where}.selective"),
        "selective_logic": int(logic or 0),
        "insertion_order": order,
        "priority": order,
        "enabled": not _flag(raw.get("disable"), f"{where}.disable"),
        "scan_depth": None if depth is None else int(depth),
        "case_sensitive": _flag(raw.get("caseSensitive"), f"{where}.caseSensitive"),
        "match_whole_words": _flag(raw.get("matchWholeWords"), f"{where}.matchWholeWords"),
        "comment": comment if isinstance(comment, str) else None,
    }


def world_to_lorebook(raw: Any, source: str, name: str = "") -> Lorebook:
    """A world-info file's JSON as a Lorebook; DramatisError naming the file and field."""
    if not is_world_info(raw):
        raise DramatisError(
            f"{source}: not a SillyTavern world-info file: it has no top-level 'entries' "
            "(a character card is imported with `dramatis personas import`)"
        )
    entries = raw["entries"]
    if isinstance(entries, dict):
        rows = [(f"entries.{k}", v) for k, v in entries.items()]
    elif isinstance(entries, list):
        rows = [(f"entries[{i}]", v) for i, v in enumerate(entries)]
    else:
        raise DramatisError(f"{source}: field entries: an object of entries is expected")
    fields = [world_entry(v, f"{source}: field {where}") for where, v in rows]
    title = raw.get("name") if isinstance(raw.get("name"), str) else name
    try:
        return Lorebook.model_validate({"name": title or None, "entries": fields})
    except ValidationError as exc:  # a value our reading let through that the model refuses
        err = exc.errors()[0]
        field = ".".join(str(part) for part in err["loc"])
        raise DramatisError(f"{source}: field {field}: {err['msg'].lower()}") from None


def lore_key(name: str) -> str:
    """File name of a lorebook.

    lore_key("Elsinore Lore") -> "elsinore_lore"; lore_key("My World.json") -> "my_world"
    """
    stem = re.sub(r"\.json$", "", name.strip(), flags=re.IGNORECASE)
    return re.sub(r"[\W_]+", "_", stem.lower()).strip("_")[:80] or "unnamed"


def read_json(path: Path) -> Any:
    """A JSON file's value; one-line DramatisError for a file that cannot be read."""
    try:
        if path.stat().st_size > MAX_LORE_BYTES:
            raise DramatisError(f"{path}: over {MAX_LORE_BYTES} bytes: not read")
        blob = path.read_bytes()
    except OSError as exc:
        raise DramatisError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return json.loads(blob.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise DramatisError(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise DramatisError(f"{path}: not JSON: {exc.msg} at line {exc.lineno}") from None
    except RecursionError:
        raise DramatisError(f"{path}: JSON nested too deeply") from None


class LoreStore:
    """The imported world-info files of one state folder: lore/KEY.json, verbatim."""

    def __init__(self, home: Path) -> None:
        self.root = home / "lore"

    def path(self, name: str) -> Path:
        return self.root / f"{lore_key(name)}.json"

    def save(self, raw: Any, name: str, *, force: bool = False) -> Path:
        """Keep a checked world-info file under `name`; refuses to replace one unless `force`."""
        world_to_lorebook(raw, name)  # checked before anything is written
        path = self.path(name)
        if path.exists() and not force:
            raise DramatisError(
                f"a lorebook {lore_key(name)!r} is already imported ({path}): pass --force "
                "to replace it, or --name to keep both"
            )
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".json.tmp")
            tmp.write_text(json.dumps(raw, ensure_ascii=False, indent=2), encoding="utf-8")
            tmp.replace(path)  # never a half-written book
        except OSError as exc:
            raise DramatisError(
                f"cannot write {path}: {exc.strerror}; check the state folder (--home)"
            ) from None
        return path

    def names(self) -> list[str]:
        return sorted(p.stem for p in self.root.glob("*.json")) if self.root.is_dir() else []

    def raw(self, name: str) -> Any:
        path = self.path(name)
        if not path.is_file():
            known = ", ".join(self.names()) or "none imported yet"
            raise DramatisError(
                f"no lorebook {name!r} ({known}): import one with `dramatis lore import FILE`"
            )
        return read_json(path)

    def book(self, name: str) -> Lorebook:
        return world_to_lorebook(self.raw(name), str(self.path(name)), lore_key(name))


def import_world(path: Path, store: LoreStore, name: str = "", *, force: bool = False) -> Lorebook:
    """Read a world-info file and keep it in `store` under `name` (default: its own
    "name", else the file's stem); give back its Lorebook."""
    raw = read_json(Path(path))
    book = world_to_lorebook(raw, str(path))
    key = lore_key(name or book.name or Path(path).stem)
    store.save(raw, key, force=force)
    return book.model_copy(update={"name": book.name or key})


def parse_lore(text: str) -> list[tuple[str, str]]:
    """`--lore` as (character, book) pairs; "" for the whole scene.

    parse_lore("elsinore, Hamlet=ghosts") -> [("", "elsinore"), ("Hamlet", "ghosts")]
    """
    pairs = []
    for part in text.split(","):
        who, sign, book = part.partition("=")
        who, book = (who.strip(), book.strip()) if sign else ("", who.strip())
        if book:
            pairs.append((who, book))
    return pairs


def card_world(persona: Any) -> str:
    """The world-info name a card links in `data.extensions.world` ("" for none)."""
    card = getattr(persona, "card_source", None) or {}
    data = card.get("data") if isinstance(card, dict) else None
    extensions = data.get("extensions") if isinstance(data, dict) else None
    world = extensions.get("world") if isinstance(extensions, dict) else None
    return world.strip() if isinstance(world, str) else ""


def books_for(persona: Any, lore: str, store: LoreStore) -> list[Lorebook]:
    """The world-info books one character of a scene reads: the one its card links (when
    imported here) and those `--lore` attaches to the scene or to it by name."""
    names = [card_world(persona)] if card_world(persona) else []
    names = [n for n in names if store.path(n).is_file()]  # a link to a book not imported
    for who, book in parse_lore(lore):
        if not who or who.lower() == persona.name.lower():
            names.append(book)
    return [store.book(n) for n in dict.fromkeys(lore_key(n) for n in names)]


def missing_lore(lore: str, cast: list[str], store: LoreStore) -> None:
    """Refuse a `--lore` naming a book not imported or a character not in the cast."""
    for who, book in parse_lore(lore):
        if who and who.lower() not in {c.lower() for c in cast}:
            raise DramatisError(
                f"--lore {who}={book}: {who} is not in the cast ({', '.join(cast)})"
            )
        store.raw(book)  # one line naming the book and the fix when it is not there


def lore_notes(personas: list[Any], store: LoreStore) -> list[str]:
    """A line for each card that links world info not imported here."""
    return [
        f"{p.name}'s card uses world info {card_world(p)!r}, not imported: import it with "
        "`dramatis lore import FILE`"
        for p in personas
        if card_world(p) and not store.path(card_world(p)).is_file()
    ]


def entry_place(entry: LoreEntry) -> tuple[str, int]:
    """Where an entry goes on the page: ("before_char" | "after_char" |
    "before_examples" | "after_examples", 0) or ("depth", N) (see the module docstring).

    entry_place(entry with position 4, depth 2) -> ("depth", 2)
    entry_place(a card's entry with position "before_char") -> ("before_char", 0)
    """
    number = st_option(entry, "position", "position", int)
    extensions = getattr(entry, "extensions", None)
    exported = extensions.get("position") if isinstance(extensions, dict) else None
    if isinstance(exported, int) and not isinstance(exported, bool):
        number = exported  # a card export's number wins over the spec's word
    elif number is None:
        word = getattr(entry, "position", None)
        number = BEFORE_CHAR if word == "before_char" else AFTER_CHAR
    if number in (AN_TOP, AN_BOTTOM):
        return "depth", NOTE_DEPTH
    if number == AT_DEPTH:
        depth = st_option(entry, "depth", "depth", int)
        return "depth", max(depth if isinstance(depth, int) else DEFAULT_DEPTH, 0)
    return PLACES.get(number if isinstance(number, int) else AFTER_CHAR, "after_char"), 0


def entry_line(entry: LoreEntry) -> str:
    """An entry's content as the prompt's lore text has it (personas.lorebook.lore_text)."""
    return " ".join(without_decorators(entry.content).split())


def lore_places(entries: Sequence[LoreEntry]) -> tuple[tuple[str, str, int], ...]:
    """(text, place, depth) for each fired entry, for `lore_layout`."""
    return tuple((entry_line(e), *entry_place(e)) for e in entries if entry_line(e))


@dataclass(frozen=True)
class LoreLayout:
    """The fired lore of one prompt by place, each place one bracketed stage line ("" for
    none); `at_depth` holds (depth, line) pairs for the transcript."""

    before_char: str = ""
    after_char: str = ""
    before_examples: str = ""
    after_examples: str = ""
    at_depth: tuple[tuple[int, str], ...] = ()

    def into_script(self, lines: Sequence[str]) -> list[str]:
        """The transcript's lines with the @depth lore put in: depth N above the Nth line
        from the end (0: after the last; deeper than the transcript: above its first).

        into_script(["A: a", "B: b"]) with a line at depth 1 -> ["A: a", "[lore]", "B: b"]
        """
        out: list[str] = []
        for i in range(len(lines) + 1):
            out += [line for depth, line in self.at_depth if max(len(lines) - depth, 0) == i]
            out += [lines[i]] if i < len(lines) else []
        return out


def lore_layout(lore: str, places: Sequence[tuple[str, str, int]]) -> LoreLayout:
    """Where each line of a prompt's lore goes (`places` from `lore_places`); a line with
    no place (lore from elsewhere) goes after the last speech, as depth 0.

    lore_layout("The ghost walks.", [("The ghost walks.", "before_char", 0)])
    -> LoreLayout(before_char="[The ghost walks.]")
    """
    where = {text: (place, depth) for text, place, depth in reversed(places)}
    groups: dict[tuple[str, int], list[str]] = {}
    for line in lore.splitlines():
        text = " ".join(line.split())
        if text:
            groups.setdefault(where.get(text, ("depth", 0)), []).append(text)
    bracket = {key: f"[{' '.join(texts)}]" for key, texts in groups.items()}
    return LoreLayout(
        **{name: bracket.get((name, 0), "") for name in PLACES.values()},
        at_depth=tuple((d, line) for (place, d), line in bracket.items() if place == "depth"),
    )


def entry_rules(entry: LoreEntry) -> str:
    """Where an entry goes and the rules past its keys, for `dramatis lore show`.

    entry_rules(entry at position 4, depth 0, probability 60, excludeRecursion)
    -> "at depth 0; 60%; not by recursion"
    """
    place, depth = entry_place(entry)
    words = {
        "before_char": "before the persons",
        "after_char": "after the persons",
        "before_examples": "before the examples",
        "after_examples": "after the examples",
    }
    rules = [words.get(place, f"at depth {depth}")]
    chance = st_option(entry, "probability", "probability", (int, float))
    if st_option(entry, "use_probability", "useProbability", bool) is not False:
        rules += [f"{chance:g}%"] if isinstance(chance, (int, float)) and chance < 100 else []
    exclude, prevent, delay = recursion_flags(entry)
    rules += ["not by recursion"] * exclude + ["brings none in"] * prevent
    rules += [f"by recursion only (level {delay})"] if delay else []
    return "; ".join(rules)
