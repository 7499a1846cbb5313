"""MemoryGraph: who is related to whom, since when, until when, and who saw it.

A networkx MultiDiGraph. Nodes are typed (character, place, object, event); edges carry
a relation (kin, loves, serves, friend, killed, addressed, mentioned, met, witnessed,
was_at, died), `since` and `until` as story moments (dramatis.memory.clock), the `source`
(a play line or a scene turn), the `witnesses` who saw or heard it then, and `told`:
who learned it later, and when (news that travels: memory/news.py). A `public` edge is
common knowledge (the persons list: who is whose daughter). Being named in a fact
teaches nobody anything: only its head (the one who did or said it), its witnesses and
those told know it.

Saved as node-link JSON, never pickle.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import networkx as nx

from dramatis.core.errors import DramatisError
from dramatis.memory.clock import Moment, known_at

NODE_KINDS = ("character", "place", "object", "event")
GRAPH_FORMAT = "dramatis-memory-graph/1"


@dataclass
class Fact:
    """One edge: `head` --relation--> `tail`, held from `since` until `until`."""

    head: str
    relation: str
    tail: str
    since: str
    until: str | None = None
    source: str = ""
    witnesses: list[str] = field(default_factory=list)
    public: bool = False
    detail: str = ""  # e.g. "daughter to" for kin
    count: int = 1  # how often it was seen (addressed 12 times)
    told: dict[str, str] = field(default_factory=dict)  # name -> when they learned it

    def learned(self, who: str) -> str | None:
        """When `who` came to know this fact (None: never)."""
        if self.public or who in self.witnesses or who == self.head:
            return self.since
        return self.told.get(who)

    def known_to(self, who: str, horizon: str) -> bool:
        """Whether `who` can know this fact at `horizon`."""
        when = self.learned(who)
        return when is not None and known_at(when, horizon)

    def holds_at(self, horizon: str) -> bool:
        """Whether the relation still holds at `horizon` (no `until` before it)."""
        return self.until is None or not known_at(self.until, horizon)


def check_fact(fact: Fact) -> None:
    """Raise TypeError or DramatisError unless a loaded fact has the types Fact declares."""
    text = (fact.head, fact.relation, fact.tail, fact.since, fact.source, fact.detail)
    if not all(isinstance(t, str) for t in text) or not isinstance(fact.public, bool):
        raise TypeError("a text field is not text")
    if not isinstance(fact.witnesses, list) or not all(isinstance(w, str) for w in fact.witnesses):
        raise TypeError("witnesses is not a list of names")
    if not isinstance(fact.count, int) or not isinstance(fact.until, str | None):
        raise TypeError("count or until has the wrong type")
    if not isinstance(fact.told, dict) or not all(isinstance(k, str) for k in fact.told):
        raise TypeError("told is not a map of names to moments")
    for moment in (fact.since, fact.until or fact.since, *fact.told.values()):
        Moment.parse(moment)


def death_event(name: str) -> str:
    """The event node of a death: death_event("Polonius") -> "event:death of Polonius"."""
    return f"event:death of {name}"


class MemoryGraph:
    def __init__(self) -> None:
        self.g = nx.MultiDiGraph()

    # -- building -------------------------------------------------------------------
    def add_node(self, name: str, kind: str = "character", **attrs: object) -> None:
        if kind not in NODE_KINDS:
            raise ValueError(f"node kind {kind!r}: one of {', '.join(NODE_KINDS)}")
        if name in self.g:
            self.g.nodes[name].update({k: v for k, v in attrs.items() if v is not None})
        else:
            self.g.add_node(name, kind=kind, **attrs)

    def add_fact(self, fact: Fact) -> Fact:
        """Add a fact, or merge it into the same (head, relation, tail) edge: the earliest
        `since` is kept (with its `source` and witnesses), whatever order they come in;
        a witness of a later sighting only is `told` it then; the count grows."""
        for name in (fact.head, fact.tail):
            if name not in self.g:
                self.add_node(name)
        old = self.fact(fact.head, fact.relation, fact.tail)
        if old is None:
            self.g.add_edge(fact.head, fact.tail, key=fact.relation, **asdict(fact))
            return fact
        first, later = (
            (fact, old) if Moment.parse(fact.since) < Moment.parse(old.since) else (old, fact)
        )
        told = dict(first.told)
        for name, when in [*later.told.items(), *((w, later.since) for w in later.witnesses)]:
            if name in first.witnesses or name == first.head:
                continue
            if name not in told or Moment.parse(when) < Moment.parse(told[name]):
                told[name] = when
        merged = replace(
            first,
            count=old.count + fact.count,
            public=old.public or fact.public,
            witnesses=sorted(first.witnesses),
            told=dict(sorted(told.items())),
        )
        self._write(merged)
        return merged

    def tell(self, head: str, relation: str, tail: str, hearers: list[str], when: str) -> None:
        """Those who hear a fact told at `when` know it from then (if not before)."""
        fact = self.fact(head, relation, tail)
        if fact is None:
            return
        for name in hearers:
            known = fact.learned(name)
            if known is None or Moment.parse(when) < Moment.parse(known):
                fact.told[name] = when
        self._write(fact)

    def end(self, head: str, relation: str, tail: str, until: str) -> None:
        """Mark a relation as ended at `until` (a death, a betrayal)."""
        fact = self.fact(head, relation, tail)
        if fact is not None and fact.until is None:
            fact.until = until
            self._write(fact)

    def die(self, name: str, when: str, witnesses: list[str], source: str = "") -> None:
        """`name` dies at `when`, seen by `witnesses` (others learn it when told: `tell`),
        and every relation of theirs ends."""
        self.add_node(name, died=when)
        event = death_event(name)
        self.add_node(event, "event", at=when)
        self.add_fact(Fact(name, "died", event, when, None, source, witnesses))
        for fact in list(self.facts_of(name)):
            if fact.relation not in ("died", "killed", "witnessed"):
                self.end(fact.head, fact.relation, fact.tail, when)

    def _write(self, fact: Fact) -> None:
        self.g.edges[fact.head, fact.tail, fact.relation].update(asdict(fact))

    # -- reading ----------------------------------------------------------------------
    def fact(self, head: str, relation: str, tail: str) -> Fact | None:
        if not self.g.has_edge(head, tail, key=relation):
            return None
        return Fact(**self.g.edges[head, tail, relation])

    def facts(self) -> Iterator[Fact]:
        for _, _, data in self.g.edges(data=True):
            yield Fact(**data)

    def facts_of(self, name: str) -> Iterator[Fact]:
        """Every fact with `name` at either end."""
        if name not in self.g:
            return
        for _, _, data in self.g.out_edges(name, data=True):
            yield Fact(**data)
        for _, _, data in self.g.in_edges(name, data=True):
            yield Fact(**data)

    def died(self, name: str) -> str | None:
        """When `name` died, or None (whoever knows it: see `knows_death`)."""
        return self.g.nodes[name].get("died") if name in self.g else None

    def knows_death(self, who: str, name: str, horizon: str) -> bool:
        """Whether `who` knows at `horizon` that `name` is dead: saw it, or was told."""
        fact = self.fact(name, "died", death_event(name))
        return fact is not None and fact.known_to(who, horizon)

    def characters(self) -> list[str]:
        return sorted(n for n, d in self.g.nodes(data=True) if d.get("kind") == "character")

    # -- saving -----------------------------------------------------------------------
    def to_json(self) -> dict:
        data = nx.node_link_data(self.g, source="from", target="to", edges="edges")
        return {"format": GRAPH_FORMAT, "graph": data}

    @classmethod
    def from_json(cls, data: dict, where: str = "graph") -> MemoryGraph:
        if not isinstance(data, dict) or data.get("format") != GRAPH_FORMAT:
            found = data.get("format") if isinstance(data, dict) else type(data).__name__
            raise DramatisError(
                f"{where}: not a {GRAPH_FORMAT} file (found {found!r}); delete it and "
                "resume the scene to rebuild its memory"
            )
        out = cls()
        try:
            out.g = nx.node_link_graph(
                data["graph"],
                directed=True,
                multigraph=True,
                source="from",
                target="to",
                edges="edges",
            )
            if not (out.g.is_directed() and out.g.is_multigraph()):  # the file's own flags win
                raise TypeError("not a directed multigraph")
            for fact in out.facts():
                check_fact(fact)
            for _, attrs in out.g.nodes(data=True):
                if attrs.get("died") is not None:
                    Moment.parse(attrs["died"])
        except (KeyError, TypeError, ValueError, AttributeError, nx.NetworkXError, DramatisError):
            raise DramatisError(
                f"{where}: damaged memory graph (a node or relation is malformed); delete it "
                "and resume the scene to rebuild its memory"
            ) from None
        return out

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_json()), encoding="utf-8")
        tmp.replace(path)  # never a half-written graph

    @classmethod
    def load(cls, path: Path) -> MemoryGraph:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as err:  # ValueError: bad UTF-8 or JSON
            raise DramatisError(
                f"{path}: unreadable memory graph ({err.__class__.__name__}); delete it and "
                "resume the scene to rebuild it"
            ) from None
        return cls.from_json(data, str(path))
