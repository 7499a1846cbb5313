"""Stage directions: who enters and leaves, so each speech knows who is on stage."""

from __future__ import annotations

import re

from dramatis.personas.edition import ORDINALS
from dramatis.personas.headings import singular
from dramatis.personas.resolve import Resolver

_CLAUSE = re.compile(r"\b(re-?enter|enter|exit|exeunt|manet|manent)\b", re.IGNORECASE)
_KEEP = re.compile(r"\b(?:all but|all except|except|but|manet|manent)\b(.*)", re.IGNORECASE)
_WORD = re.compile(r"\b[A-Z][A-Za-z'\-]+")
_NOT_ROLES = {"enter", "exit", "exeunt", "all", "both", "the", "and", "with", "severally", "omnes"}


def direction_roles(directions: list[str]) -> set[str]:
    """Singular lower-case capitalised words of stage directions: candidate role names.

    direction_roles(["Enter a Messenger and Lords."]) -> {"messenger", "lord"}
    """
    words = {singular(w) for d in directions for w in _WORD.findall(d)}
    return {w for w in words if w not in _NOT_ROLES and not w.startswith("re-")}


def _named(text: str, stage: list[str], resolver: Resolver) -> list[str]:
    """People on stage (or listed characters) that a direction clause names."""
    names = resolver.mentions(text)
    words = {singular(w) for w in _WORD.findall(text)}
    for person in stage:
        first, *rest = person.split()
        numbered = bool(rest) and first.lower() in ORDINALS
        if numbered and person not in names and singular(rest[-1]) in words:
            names.append(person)  # "Exit Servant." removes "First Servant" too
    return names


def apply_direction(
    direction: str,
    stage: list[str],
    resolver: Resolver,
    speaker: str | None,
    opening: bool = False,
) -> list[str]:
    """The stage after a direction; `speaker` leaves on a bare "Exit".

    With `opening` (no one has spoken yet in the scene), people the direction names before
    any verb are discovered on stage: "[Francisco at his post. Enter to him Bernardo.]".
    """
    stage = list(stage)
    pieces = _CLAUSE.split(direction)
    if opening:
        stage += [n for n in resolver.mentions(pieces[0]) if n not in stage]
    for verb, rest in zip(pieces[1::2], pieces[2::2], strict=True):
        verb = verb.lower().replace("-", "")
        if verb in ("enter", "reenter"):
            stage += [n for n in resolver.mentions(rest) if n not in stage]
        elif verb == "exit":
            bare = speaker and not direction_roles([rest])  # "Exit Servant.": not the speaker
            gone = _named(rest, stage, resolver) or ([speaker] if speaker and bare else [])
            stage = [p for p in stage if p not in gone]
        elif verb in ("manet", "manent"):
            kept = _named(rest, stage, resolver)
            stage = [p for p in stage if p in kept]
        elif keep := _KEEP.search(rest):  # "Exeunt all but Hamlet."
            kept = _named(keep[1], stage, resolver)
            stage = [p for p in stage if p in kept]
        else:  # "Exeunt King and Queen." or a bare "Exeunt."
            gone = _named(rest, stage, resolver)
            if gone:
                stage = [p for p in stage if p not in gone]
            elif not direction_roles([rest]):  # "Exeunt Lords." leaves the named on stage
                stage = []
    return stage
