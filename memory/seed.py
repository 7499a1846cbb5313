"""Seed a MemoryGraph from a play, up to a horizon: relations from the persons list,
co-presence, who answers and names whom, places, deaths from stage directions and from
dialogue that reports them, and who is told of each death, when (memory/news.py)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from dramatis.memory.clock import Moment, known_at
from dramatis.memory.deaths import find_deaths
from dramatis.memory.graph import Fact, MemoryGraph, death_event
from dramatis.memory.news import heard_by, reported_deaths, tellings
from dramatis.memory.relations import described_relations
from dramatis.personas.model import Play, Scene, Speech

# Role names too common in speech to count as naming that role ("my lord", "a gentleman").
GENERIC = {
    "lord",
    "lady",
    "gentleman",
    "servant",
    "messenger",
    "captain",
    "soldier",
    "page",
    # speech words that are also the names of roles ("And prologue to the omen coming on")
    "prologue",
    "epilogue",
    "chorus",
    "player",
    # words of a role that describe it, and are common words in speech ("the English
    # lords" is not King John's English Herald; "old" is not the Old Shepherd)
    "old",
    "young",
    "english",
    "french",
    # kin words describe a name, they are not one ("Ghost of Hamlet's Father")
    "father",
    "mother",
    "son",
    "daughter",
    "brother",
    "sister",
    "wife",
    "husband",
}  # the persons list is known from the start


def name_index(play: Play) -> dict[str, str]:
    """Lower-case names, aliases and name words of a play's characters -> canonical name.

    Full names beat aliases ("King" -> Claudius), aliases beat single words of a name
    ("P. King"); a form two characters share at the same rank is left out (ambiguous).
    """
    ranks: list[dict[str, str]] = [{}, {}, {}]
    shared: set[str] = set()
    for c in play.characters.values():
        for rank, forms in enumerate(([c.name], c.aliases, c.name.split())):
            for form in forms:
                key = form.lower()
                if len(key) < 3 or key in GENERIC or key in ("the", "first", "second", "third"):
                    continue
                if rank == 2 and key.endswith("'s"):
                    continue  # "Hamlet's" in "Ghost of Hamlet's Father" names nobody
                if ranks[rank].get(key, c.name) != c.name:
                    shared.add(f"{rank}:{key}")
                ranks[rank].setdefault(key, c.name)
    index: dict[str, str] = {}
    for rank in (2, 1, 0):  # higher ranks overwrite
        index.update({k: v for k, v in ranks[rank].items() if f"{rank}:{k}" not in shared})
    return index


def named_in(text: str, names: dict[str, str]) -> list[str]:
    """Characters a speech names, by name or alias, written with a capital (a name is;
    "prologue" in "And prologue to the omen" is not the Prologue).

    named_in("Good my lord Polonius", {"polonius": "Polonius"}) -> ["Polonius"]
    """
    words = re.findall(r"[A-Za-z']+", text)
    found: list[str] = []
    i = 0
    while i < len(words):
        pair = " ".join(words[i : i + 2]).lower()
        step = 2 if pair in names and i + 1 < len(words) else 1
        hit = names.get(pair) if step == 2 else names.get(words[i].lower())
        hit = hit if words[i][0].isupper() else None
        if hit and hit not in found:
            found.append(hit)
        i += step
    return found


def scene_facts(play: Play, scene: Scene, names: dict[str, str]) -> Iterable[Fact]:
    """Co-presence, places, replies and mentions of one scene."""
    place = f"place:{scene.setting.split('.')[0].strip() or play.title}"
    prev: Speech | None = None
    for s in scene.speeches:
        where = f"{play.key} {s.scene_id}, speech {s.index}"
        stage = list(heard_by(s))  # presence per line: an exit mid-speech missed the rest
        for person in s.speakers:
            yield Fact(person, "was_at", place, s.scene_id, None, where, stage)
            for other in stage:
                if other != person:
                    yield Fact(person, "met", other, s.scene_id, None, where, stage)
            if prev is not None and person not in prev.speakers:
                for them in prev.speakers:
                    yield Fact(person, "addressed", them, s.scene_id, None, where, stage)
            for named in named_in(s.text, names):
                if named != person:
                    kind = "addressed" if named in stage else "mentioned"
                    yield Fact(person, kind, named, s.scene_id, None, where, stage)
        prev = s


def seed_graph(play: Play, horizon: str, graph: MemoryGraph | None = None) -> MemoryGraph:
    """The play's relations and events known before `horizon` ("3.1"), in `graph`."""
    graph = graph or MemoryGraph()
    names = name_index(play)
    for c in play.characters.values():
        graph.add_node(c.name, play=play.key, description=c.description)
    for c in play.characters.values():
        for fact in described_relations(c.name, c.description, names):
            graph.add_fact(fact)
    for scene in play.scenes():
        if not known_at(scene.id, horizon):
            break
        graph.add_node(f"place:{scene.setting.split('.')[0].strip() or play.title}", "place")
        for fact in scene_facts(play, scene, names):
            graph.add_fact(fact)
    deaths = find_deaths(play)
    deaths += reported_deaths(play, deaths, names)
    for death in deaths:
        if known_at(death.scene, horizon):
            graph.die(death.name, death.scene, death.witnesses, death.source)
    for told in tellings(play, deaths, names):
        if known_at(told.scene, horizon):
            graph.tell(told.dead, "died", death_event(told.dead), list(told.hearers), told.scene)
    return graph


def horizon_after(scene_id: str) -> str:
    """The horizon just after a scene: horizon_after("3.4") -> "3.5"."""
    m = Moment.parse(scene_id)
    return f"{m.act}.{m.scene + 1}"
