"""Deaths from stage directions ("Dies.", "Falls and dies.", "King dies.").

A direction's place among the speeches is not kept by the parser, so an unnamed death
goes to the character of that scene who, by the text, is dying: one who never speaks
again after it, best one whose last words say so ("O, I am slain!").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dramatis.personas.model import Play, Scene

_DIES = re.compile(r"^(?:(.+?)\s+)?dies\b", re.IGNORECASE)
_FALLS = re.compile(r"^(?:falls|sinks|swoons)\s+and\s+", re.IGNORECASE)
_DYING_WORDS = re.compile(
    r"\bI\s+(?:am|'m)\s+(?:slain|dead|kill'd|killed|poison'd|sped|hurt)|\bI\s+die\b|"
    r"\bO,\s*I\s+die\b|\bI\s+am\s+justly\s+kill'd|\bI\s+am\s+dead",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Death:
    name: str
    scene: str  # "3.4"
    witnesses: list[str]  # on stage when it happened (or heard the speech that told it)
    source: str
    index: int = -1  # the play's speech by which it has happened (its tellings come after)


def dying_words(text: str) -> bool:
    """dying_words("O, I am slain!") -> True; dying_words("Good night.") -> False"""
    return bool(_DYING_WORDS.search(text))


def _candidates(play: Play, scene: Scene, taken: set[str]) -> list[str]:
    """Who in `scene` could be the one dying: they speak here and never again, dying
    words first, then in the order of their last words."""
    last: dict[str, int] = {}
    for s in play.speeches():
        last[s.speaker] = s.index
    here = {s.speaker: s for s in scene.speeches}
    gone = [n for n, s in here.items() if last.get(n) == s.index and n not in taken]
    gone = [n for n in gone if n != scene.speeches[-1].speaker and not n.startswith("Ghost")]
    words = {
        n: any(dying_words(s.text) for s in scene.speeches[-60:] if s.speaker == n) for n in gone
    }
    return sorted(gone, key=lambda n: (not words[n], here[n].index))


def find_deaths(play: Play) -> list[Death]:
    """Every death the stage directions show, in play order."""
    names = {c.lower(): c for c in play.characters}
    for c in play.characters.values():
        for alias in c.aliases:
            names.setdefault(alias.lower(), c.name)
    deaths: list[Death] = []
    for scene in play.scenes():
        if not scene.speeches:
            continue
        taken = {d.name for d in deaths}
        unnamed = 0
        for direction in scene.directions:
            m = _DIES.match(_FALLS.sub("", direction.strip()))
            if not m or len(direction.split()) > 5:
                continue
            named = names.get((m[1] or "").lower().removeprefix("the ").strip())
            if named and named not in taken:
                taken.add(named)
                source = f"{play.key} {scene.id}: {direction}"
                seen, at = _seen_by(scene, named)
                deaths.append(Death(named, scene.id, seen, source, at))
            elif not m[1]:
                unnamed += 1
        for name in _candidates(play, scene, taken)[:unnamed]:
            source = f"{play.key} {scene.id}: Dies."
            seen, at = _seen_by(scene, name)
            deaths.append(Death(name, scene.id, seen, source, at))
    return deaths


def _seen_by(scene: Scene, name: str) -> tuple[list[str], int]:
    """(who saw `name` die in `scene`, the speech by which it happened): those on stage
    at the dying one's last speech there and at the speech after it; the whole scene's
    cast when they never speak in it."""
    said = scene.speeches
    last = max((i for i, s in enumerate(said) if s.speaker == name), default=None)
    if last is None:
        return sorted({p for s in said for p in s.on_stage}), said[-1].index
    around = said[last : last + 2]
    return sorted({p for s in around for p in s.on_stage}), around[-1].index
