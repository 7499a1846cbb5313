"""Graph queries as prompt text: neighbours of a character, the relation between two,
what one knows about another, all as of a horizon and through one character's eyes.

The sentences are in-world ("Polonius is dead.", "Ophelia is daughter to Polonius."):
they go into a character's prompt as things the character knows.
"""

from __future__ import annotations

from dataclasses import dataclass

from dramatis.memory.clock import known_at
from dramatis.memory.graph import Fact, MemoryGraph

# relation -> (while it holds, once it has ended): head PHRASE tail
PHRASES = {
    "kin": ("is {detail} {tail}", "was {detail} {tail}"),
    "serves": ("serves {tail}", "served {tail}"),
    "friend": ("is a friend to {tail}", "was a friend to {tail}"),
    "loves": ("loves {tail}", "loved {tail}"),
    "killed": ("killed {tail}", "killed {tail}"),
    "addressed": ("has spoken with {tail}", "spoke with {tail}"),
    "mentioned": ("has spoken of {tail}", "spoke of {tail}"),
    "met": ("has met {tail}", "met {tail}"),
    "was_at": ("has been at {tail}", "was at {tail}"),
}
# Relations worth a line in a prompt, strongest first: co-presence is too common to list.
PROMPT_RELATIONS = ("died", "killed", "kin", "serves", "friend", "loves", "addressed")


def sentence(fact: Fact, horizon: str, ended: bool | None = None) -> str:
    """A fact as one in-world sentence, past tense when it no longer holds (`ended`:
    as far as the one who knows it knows; default: as far as anyone does).

    Fact("Ophelia", "kin", "Polonius", "1.1", detail="daughter to") -> "Ophelia is daughter
    to Polonius."
    """
    if fact.relation == "died":
        return f"{fact.head} is dead."
    verb = fact.relation.replace("_", " ") + " {tail}"
    now, then = PHRASES.get(fact.relation, (verb, verb))
    over = not fact.holds_at(horizon) if ended is None else ended
    phrase = then if over else now
    text = f"{fact.head} {phrase.format(tail=_plain(fact.tail), detail=fact.detail)}"
    return " ".join(text.split()) + "."


def _plain(node: str) -> str:
    """Node ids without their kind prefix: "place:Elsinore" -> "Elsinore"."""
    return node.split(":", 1)[1] if node.startswith(("place:", "event:", "object:")) else node


@dataclass(frozen=True)
class Neighbour:
    name: str
    relation: str
    since: str
    until: str | None
    detail: str = ""
    count: int = 1
    outgoing: bool = True  # the character is the fact's head ("Ophelia is daughter to ...")


def ended_for(graph: MemoryGraph, who: str, fact: Fact, horizon: str) -> bool:
    """Whether `who` knows at `horizon` that `fact` has ended: relations end with a
    death, and only those who know of the death know they have ended."""
    if fact.until is None or not known_at(fact.until, horizon):
        return False
    return any(
        graph.died(n) == fact.until and graph.knows_death(who, n, horizon)
        for n in (fact.head, fact.tail)
        if n != who
    )


def neighbours(graph: MemoryGraph, who: str, horizon: str) -> list[Neighbour]:
    """Whom `who` is linked to, as far as `who` knows at `horizon`; strongest first."""
    out = []
    for f in graph.facts_of(who):
        if not f.known_to(who, horizon):
            continue
        other = f.tail if f.head == who else f.head
        until = f.until if ended_for(graph, who, f, horizon) else None
        out.append(Neighbour(other, f.relation, f.since, until, f.detail, f.count, f.head == who))
    rank = {r: i for i, r in enumerate(PROMPT_RELATIONS)}
    return sorted(out, key=lambda n: (rank.get(n.relation, 99), -n.count, n.name))


def known_people(graph: MemoryGraph, who: str, horizon: str) -> set[str]:
    """Whom `who` knows of at `horizon`: themselves, anyone a fact of their own links them
    to (kin in the persons list, anyone met or named to them), and anyone at either end
    of a fact they witnessed or were told (a speech that named them)."""
    known = {who}
    for f in graph.facts():
        if (who in (f.head, f.tail) or not f.public) and f.known_to(who, horizon):
            known.update((f.head, f.tail))
    return known


def knows_about(
    graph: MemoryGraph, who: str, about: str, horizon: str, limit: int = 12
) -> list[str]:
    """What `who` knows about `about` at `horizon`, as sentences: a death first, then
    kin and service, then whom they speak with most (co-presence is left out). A fact of
    the persons list that names a third person is left out until `who` knows of them:
    at 1.2 Claudius knows Hamlet is his nephew, but not yet that a Horatio is his friend."""
    rank = {r: i for i, r in enumerate(PROMPT_RELATIONS)}
    known: set[str] | None = None
    facts = []
    for f in graph.facts_of(about):
        if not f.known_to(who, horizon) or f.relation not in rank:
            continue
        if f.relation == "died" and about == who:
            continue
        if f.public and not {f.head, f.tail} <= {who, about}:
            known = known_people(graph, who, horizon) if known is None else known
            if not {f.head, f.tail} <= known:
                continue
        facts.append(f)
    facts.sort(key=lambda f: (rank[f.relation], -f.count, f.since))
    said = (sentence(f, horizon, ended_for(graph, who, f, horizon)) for f in facts)
    return list(dict.fromkeys(said))[:limit]


def relation(graph: MemoryGraph, a: str, b: str, horizon: str, who: str | None = None) -> str:
    """The relations between `a` and `b` known to `who` (default `a`), as sentences."""
    who = who or a
    facts = [
        f
        for f in graph.facts_of(a)
        if b in (f.head, f.tail) and f.known_to(who, horizon) and f.relation != "met"
    ]
    found = [sentence(f, horizon, ended_for(graph, who, f, horizon)) for f in facts]
    for name in (a, b):
        if name != who and graph.knows_death(who, name, horizon):
            found.insert(0, f"{name} is dead.")
    return " ".join(dict.fromkeys(found)) or f"{a} and {b} have not met."


# Who-spoke-with-whom sentences: true but thin; a prompt carries them only when
# there is nothing weightier (a death, kin, service, friendship, love, a killing).
TALK = ("has spoken with", "spoke with", "has spoken of", "spoke of")


def prompt_facts(graph: MemoryGraph, who: str, horizon: str, limit: int = 6) -> list[str]:
    """The few things `who` knows that a prompt should carry: deaths of those close to
    them, then kin, service, friendship and love across the people around them, and
    only then whom they have spoken with (TALK).

    prompt_facts(g, "Hamlet", "5.2", 3) -> ["Hamlet is nephew to Claudius.",
    "Gertrude is mother to Hamlet.", "Horatio is a friend to Hamlet."]  (before: "Hamlet
    has spoken with Claudius." took the second place; g: Hamlet seeded to 5.2)
    """
    lines: list[str] = []
    for n in neighbours(graph, who, horizon):
        if n.relation not in PROMPT_RELATIONS or n.name.startswith("event:"):
            continue
        if graph.knows_death(who, n.name, horizon):
            lines.append(f"{n.name} is dead.")
        lines += [s for s in relation(graph, who, n.name, horizon).split(". ") if s]
    tidy = list(dict.fromkeys(line if line.endswith(".") else line + "." for line in lines))
    return sorted(tidy, key=lambda line: any(t in line for t in TALK))[:limit]  # stable
