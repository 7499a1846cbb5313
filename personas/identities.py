"""One person under one readable name: the explained identity table (personas/data).

The persons lists of this edition sometimes split one person in two (Richard III is
"Duke of Gloster" and, after the list, the title line "King Richard the Third"), drop one
(1 Henry IV lists "Henry Percy" twice, father and son, so Hotspur is lost), or name someone
as no reader would ("Queen to King Richard"). `personas/data/identities.json` fixes these
per play, each entry with the reason, before any heading is resolved:

    {"listed": "Duke of Gloster", "name": "Richard III", "aliases": ["Gloster", ...],
     "why": "..."}                                   # rename, and add names he goes by
    {"listed": null, "name": "Hotspur", "description": "...", "why": "..."}  # add a person
    {"drop": "King Richard the Third", "why": "..."}  # not a person: the title repeated
    {"heading": "KING.", "scenes": ["5.2", "5.5"], "name": "Prince Henry", "why": "..."}
                                                      # a heading that changes hands
    {"heading": "BOTH TRIBUNES.", "scenes": ["2.1"], "name": "Both",
     "members": ["Sicinius Velutus", "Junius Brutus"], "why": "..."}  # a group heading
    {"heading": "EUPHRONIUS.", "scenes": ["3.13"], "off_stage": true, "name": "...", ...}
                                     # only once the person it names has left: a misprint

`dramatis play check` shows the rule "identity table" for the headings these decide.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

from dramatis.core.errors import DramatisError
from dramatis.personas.model import Character

IDENTITY_FILE = Path(__file__).resolve().parent / "data" / "identities.json"


@dataclass(frozen=True)
class Identity:
    """One entry of the table: whom it renames (or adds, or drops), and why."""

    name: str
    why: str
    listed: str | None = None  # the name the persons list gives (None: a person it lacks)
    aliases: tuple[str, ...] = ()
    description: str = ""
    drop: bool = False
    heading: str = ""  # with `scenes`: this heading in these scenes is this person
    scenes: tuple[str, ...] = ()
    members: tuple[str, ...] = ()  # a group heading's speakers ("Both" tribunes)
    # only where the person the heading names has left the stage (a misprinted heading)
    off_stage: bool = False


def _entry(play: str, i: int, raw: dict[str, object]) -> Identity:
    """One table entry, checked; a bad one names the play, the entry and the field."""
    where = f"{IDENTITY_FILE.name}: {play}[{i}]"
    why = raw.get("why")
    if not isinstance(why, str) or not why:
        raise DramatisError(f"{where}: field 'why' is missing; say why the identity holds")
    if isinstance(raw.get("drop"), str):
        return Identity(name=str(raw["drop"]), why=why, drop=True)
    if "heading" in raw:
        heading, scenes, name = raw.get("heading"), raw.get("scenes"), raw.get("name")
        if not isinstance(heading, str) or not isinstance(name, str):
            raise DramatisError(f"{where}: fields 'heading' and 'name' must be strings")
        if not isinstance(scenes, list) or not all(isinstance(x, str) for x in scenes):
            raise DramatisError(f"{where}: field 'scenes' must be a list of scene ids like '5.2'")
        members = raw.get("members", [])
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            raise DramatisError(f"{where}: field 'members' must be a list of the group's names")
        off = raw.get("off_stage", False)
        if not isinstance(off, bool):
            raise DramatisError(f"{where}: field 'off_stage' must be true or false")
        return Identity(
            name, why, heading=heading, scenes=tuple(scenes), members=tuple(members), off_stage=off
        )
    name, listed, aliases = raw.get("name"), raw.get("listed"), raw.get("aliases", [])
    if not isinstance(name, str) or not name:
        raise DramatisError(f"{where}: field 'name' must be the readable name, a string")
    if listed is not None and not isinstance(listed, str):
        raise DramatisError(f"{where}: field 'listed' must be a persons-list name or null")
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise DramatisError(f"{where}: field 'aliases' must be a list of names")
    desc = raw.get("description", "")
    return Identity(name, why, listed, tuple(aliases), desc if isinstance(desc, str) else "")


@functools.lru_cache(maxsize=1)
def load_identities(path: Path = IDENTITY_FILE) -> dict[str, tuple[Identity, ...]]:
    """The identity table per play key; {} when the file is absent."""
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DramatisError(f"{path.name}: not valid JSON ({exc.msg}, line {exc.lineno})") from exc
    return {
        play: tuple(_entry(play, i, raw) for i, raw in enumerate(entries))
        for play, entries in data.items()
    }


def apply_identities(play: str, characters: list[Character]) -> list[Character]:
    """The persons-list characters with the table's renames, additions and drops applied.

    A renamed character keeps its old name and its aliases as aliases, so every heading
    form that named it still does.
    """
    table = load_identities().get(play, ())
    by_name = {c.name: c for c in characters}
    out = list(characters)
    for ident in table:
        if ident.heading:
            continue  # a scene-bound heading: read by scene_headings
        old = by_name.get(ident.name if ident.drop else ident.listed or "")
        if ident.drop:
            out = [c for c in out if c is not old]
            continue
        if old is None:
            if ident.listed is not None:
                raise DramatisError(
                    f"{IDENTITY_FILE.name}: {play}: no persons-list name {ident.listed!r}; "
                    f"valid: {', '.join(c.name for c in out)}"
                )
            new = Character(
                ident.name,
                ident.description,
                ident.aliases,
                identity=ident.why,
                given=ident.aliases,
            )
            out.append(new)
            continue
        aliases = (*ident.aliases, old.name, *old.aliases)
        aliases = tuple(a for a in dict.fromkeys(aliases) if a != ident.name)
        desc = ident.description or old.description
        new = Character(ident.name, desc, aliases, identity=ident.why, given=ident.aliases)
        out = [new if c is old else c for c in out]
    return out


def heading_key(heading: str) -> str:
    """A heading as the table matches it: heading_key("KING.  ") -> "king"."""
    return " ".join(heading.strip().rstrip(".:-").lower().split())


def scene_headings(play: str) -> dict[tuple[str, str], Identity]:
    """(heading, scene id) -> the table's entry, for its scene-bound headings of a play."""
    return {
        (heading_key(ident.heading), scene): ident
        for ident in load_identities().get(play, ())
        if ident.heading
        for scene in ident.scenes
    }


SERIES_FILE = IDENTITY_FILE.parent / "series.json"


@functools.lru_cache(maxsize=1)
def load_series(path: Path = SERIES_FILE) -> tuple[tuple[str, ...], ...]:
    """Groups of "play:Name" that are one person across plays (personas/data/series.json)."""
    if not path.is_file():
        return ()
    groups = json.loads(path.read_text(encoding="utf-8")).get("series", [])
    return tuple(tuple(group) for group in groups)


def same_person(play: str, name: str) -> list[str]:
    """The other plays' "play:Name" for the same person, in story order.

    same_person("henry_iv_part_1", "Prince Henry") -> ["henry_iv_part_2:Prince Henry",
    "henry_v:King Henry V"]
    """
    ref = f"{play}:{name}"
    for group in load_series():
        if ref in group:
            return [r for r in group if r != ref]
    return []
