"""The PERSONS REPRESENTED list: characters with descriptions, and generic role words."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import dramatis.personas.edition as edition
from dramatis.personas.headings import (
    act_heading,
    display_name,
    scene_heading,
    section_heading,
    singular,
)
from dramatis.personas.model import Character

_LIST_TITLE = re.compile(r"^(persons represented|dramatis person(ae|æ))[.:]?$", re.IGNORECASE)
_GLOBAL_SCENE = re.compile(r"^scene\s*[:.,]", re.IGNORECASE)
_CONNECTORS = (",", ";", "-", " the", " and", " of", " in", " to", " on", " by", " with", " a")
_TITLE_ALIAS = re.compile(
    r"^(?:the\s+)?(King|Queen|Prince|Princess|Duke|Duchess|Emperor|Empress|Cardinal|"
    r"Countess|Abbess|Lord Chamberlain|Dauphin)\b",
    re.IGNORECASE,
)
_PEERAGE = re.compile(r"^(?:the\s+)?((?:Duke|Duchess|Earl|Countess|Marquess)\s+of\s+[A-Z][\w']+)")
_OR_ALIAS = re.compile(r"\b(?:or|called also|called|surnamed)\s+([A-Z][A-Za-z'\- ]+)")
# A later title given in the list ("afterwards KING RICHARD III"): two words at least, so
# "afterwards King, of France" gives none.
_LATER_TITLE = re.compile(
    r"\bafterwards\s+([A-Z][A-Za-z']*(?:\s+(?:of\s+|the\s+)?[A-Z][A-Za-z']*)+)"
)
# An all-capitals title after a bare given name: "RICHARD, DUKE OF GLOSTER" is one person.
_TITLE_SEGMENT = re.compile(
    r"^(?:DUKE|DUCHESS|EARL|COUNTESS|MARQUIS|MARQUESS|PRINCE|PRINCESS|ARCHBISHOP|BISHOP)\s+OF\s"
)
_LOWER_WORD = re.compile(r"(?<=\s)(?!(?:of|the|and|de|la|le|du)\b)[a-z][\w'\-]*")
_GIVEN_NAME = re.compile(r"^called [A-Z][\w'\-]*,?")  # what _names_and_desc adds
_CAPS_NAME = re.compile(r"^[A-Z][A-Z'\- ]+,")  # "ANTIPHOLUS OF SYRACUSE," opens an entry
_GROUP_HEADER = re.compile(r"^(?:his|her|their)\s+\w+$|.*:$", re.IGNORECASE)  # "His sons"
_EPITHET = re.compile(r"^an?\s+([a-z]+)$", re.IGNORECASE)  # "a poet": a second Cinna
_ARTICLE = re.compile(r"^(?:a|an|the|his|her)\s+", re.IGNORECASE)


@dataclass
class PersonsList:
    """Characters named in the persons list, and singular role words from group lines."""

    characters: list[Character] = field(default_factory=list)
    roles: set[str] = field(default_factory=set)
    setting: str = ""  # the "SCENE: Elsinore." line


def persons_region(lines: list[str]) -> tuple[int, int]:
    """Line range [start, end) of the persons list; (0, 0) when the text has none.

    persons_region(["PERSONS REPRESENTED.", "Hamlet.", "ACT I."]) -> (1, 2)
    """
    for i, line in enumerate(lines):
        if _LIST_TITLE.match(line.strip()):
            for j in range(i + 1, len(lines)):
                text = lines[j].strip()
                if act_heading(text) or scene_heading(text) or section_heading(text):
                    return i + 1, j
            return i + 1, len(lines)
    return 0, 0


def _entries(lines: list[str], title: str) -> list[str]:
    """Join wrapped lines of the persons list into one string per entry."""
    entries: list[str] = []
    body = [line for line in lines if line.strip()]
    if body and body[-1].strip().upper() == title.upper():
        lines = lines[: len(lines) - lines[::-1].index(body[-1])]
        lines = lines[:-1]  # the title repeated after the list, before ACT I
    for raw in lines:
        text = raw.strip()
        if not text:
            entries.append("")
            continue
        prev = entries[-1] if entries else ""
        wrapped = prev and (
            raw[0].isspace()
            or text[0].islower()
            or (prev.endswith(_CONNECTORS) and not _CAPS_NAME.match(text))
            or (
                "," not in text
                and len(text.split()) <= edition.WRAP_MAX_WORDS
                and len(prev) > edition.WRAP_WIDTH
            )
        )
        if wrapped:
            entries[-1] = f"{prev} {text}"
        else:
            entries.append(text)
    return [e for e in entries if e]


def _split_entry(entry: str) -> list[str]:
    """Split an entry holding several people ("A Porter. An Old Man.") into parts."""
    parts = re.split(r"\.\s+(?=(?:A|An|The|Another)\s)|;\s*", entry)
    out = []
    for part in parts:
        head, sep, tail = part.partition(",and ")
        out.append(head)
        if sep:
            out.append(tail)
    return [p.strip() for p in out if p.strip()]


def _plural(name: str) -> bool:
    """Whether a name ends in a plural noun.

    _plural("Volscian Senators") -> True; _plural("Lucius") -> False
    """
    words = name.split()
    if not words or words[0].lower() in edition.TITLE_WORDS or " of " in name.lower():
        return False  # "Lord Hastings", "Duke of Orleans": one person
    return singular(words[-1]) != words[-1].lower()


def _is_group(names: list[str], desc: str) -> bool:
    """Whether a persons-list item names a group ("Two Clowns", "Lords, Ladies...").

    _is_group(["Roman", "Volscian Senators"], "Patricians, Aediles") -> True
    _is_group(["Goths", "Romans"], "") -> True; _is_group(["Fabian"], "") -> False
    """
    words = " ".join(names).split()
    if not words or words[0].lower() in edition.NUMBER_WORDS:
        return True
    if not _plural(names[-1]):
        return False
    first = desc.split()[0].strip(",") if desc else ""
    listing = first[:1].isupper() and singular(first) != first.lower()
    return listing or (not desc and all(_plural(n) for n in names))


def _names_and_desc(item: str) -> tuple[list[str], str, bool]:
    """Names and description of one persons-list item.

    _names_and_desc("Claudius, King of Denmark.") -> (["Claudius"], "King of Denmark", False)
    The flag says the description was cut at a lower-case word, not at a comma.
    """
    item = item.strip().rstrip(".")
    if "}" in item:
        head, _, desc = item.partition("}")
        segments = [s.strip() for s in head.split(",")]
        return [s for s in segments if s], desc.strip(), False
    segments = [s.strip() for s in re.split(r",|\s{2,}|\s+-\s+", item) if s.strip()]
    if not segments:  # an item of punctuation only, e.g. "."
        return [], "", False
    names = [segments[0]]
    rest = segments[1:]
    if rest and len(names[0].split()) == 1 and _TITLE_SEGMENT.match(rest[0]):
        names = [rest.pop(0)]  # "RICHARD, DUKE OF GLOSTER": the title names him, Richard too
        rest.insert(0, f"called {display_name(segments[0])}")
    while rest and rest[0].upper() == rest[0] and any(c.isalpha() for c in rest[0]):
        names.append(rest.pop(0))
    desc = ", ".join(rest)
    cut = len(names) == 1 and _LOWER_WORD.search(names[0])
    if cut:
        names[0], desc = names[0][: cut.start()], f"{cut.group(0)}{names[0][cut.end() :]} {desc}"
        names[0] = re.sub(r"(\s+(and|of|the))+$", "", names[0].strip())
    split: list[str] = []
    for name in names:
        left, sep, right = name.partition(" and ")
        if sep and left[:1].isupper() and right[:1].isupper():
            split += [left, right]
        else:
            split.append(name)
    return split, desc.strip(" ,"), bool(cut)


def _aliases(desc: str) -> tuple[str, ...]:
    """Extra names a character goes by, from its description.

    _aliases("King of Denmark.") -> ("King",)
    _aliases("Duke of York - uncle to the King") -> ("Duke", "Duke of York")
    _aliases("or ROBIN GOODFELLOW, a Fairy") -> ("Robin Goodfellow",)
    """
    found = []
    if m := _TITLE_ALIAS.match(desc):
        found.append(display_name(m[1]))
    if m := _PEERAGE.match(desc):
        found.append(display_name(m[1]))  # "Duke of York": "YORK." names him
    found += [display_name(m.strip()) for m in _OR_ALIAS.findall(desc)]
    found += [display_name(m.strip()) for m in _LATER_TITLE.findall(desc)]
    return tuple(dict.fromkeys(found))


def parse_persons(lines: list[str], title: str = "") -> PersonsList:
    """Parse the persons-list lines into characters and role words."""
    result = PersonsList()
    seen: set[str] = set()
    for entry in _entries(lines, title):
        if _GROUP_HEADER.match(entry):
            continue  # a heading over a group of names ("Trojan commanders:", "His sons")
        if _GLOBAL_SCENE.match(entry):
            result.setting = re.sub(_GLOBAL_SCENE, "", entry).strip(" -")
            continue
        for item in _split_entry(entry):
            names, desc, cut = _names_and_desc(item)
            if not names:
                continue
            if desc.lower().startswith("and ") or desc.split()[:1] == ["several"]:
                desc = desc.removeprefix("and ")
                if _is_group([desc], ""):
                    result.roles |= {singular(w) for w in re.findall(r"[A-Z][\w'\-]+", desc)}
                    desc = ""
            if _is_group(names, "" if cut else desc):
                result.roles |= {singular(w) for w in re.findall(r"[A-Za-z][A-Za-z'\-]+", item)}
                continue
            for raw in names:
                name = display_name(_ARTICLE.sub("", raw.strip()))
                if name.lower() in seen and (epithet := _EPITHET.match(desc)):
                    name = f"{name} the {display_name(epithet[1])}"  # "Cinna the Poet"
                if not name or name.lower() in seen:
                    continue
                seen.add(name.lower())
                plain = _GIVEN_NAME.sub("", desc).strip(" ,")  # the given name is an alias
                result.characters.append(Character(name, plain, _aliases(desc)))
    return result
