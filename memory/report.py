"""What a character knows, as data (for --json) and as text: the graph's neighbours and
relations with since/until, and the newest scene memories the character witnessed."""

from __future__ import annotations

from dramatis.memory.clock import turn_moment
from dramatis.memory.graph import MemoryGraph
from dramatis.memory.knowledge import knows_about, neighbours
from dramatis.memory.mirror import Where
from dramatis.memory.store import VectorStore


def knowledge_report(
    graph: MemoryGraph, store: VectorStore, thread: str, who: str, horizon: str, recent: int = 8
) -> dict:
    said = store.payloads("episodic", Where(equals=(("thread", thread),)))
    turns = max((int(p["turn"]) for p in said), default=-1) + 1
    now = turn_moment(horizon, turns - 1) if turns else horizon
    near = [n for n in neighbours(graph, who, now) if n.relation != "was_at"]
    seen = sorted((p for p in said if who in p["witnesses"]), key=lambda p: -int(p["turn"]))
    # The people nearest first (neighbours' order: kin, service ... then talk), those
    # whose death `who` knows before all: a death must not fall off the list.
    close = dict.fromkeys(n.name for n in near if not n.name.startswith(("event:", "place:")))
    dead = [p for p in graph.characters() if p != who and graph.knows_death(who, p, now)]
    people = list(dict.fromkeys([*dead, *close]))
    return {
        "character": who,
        "thread": thread,
        "horizon": now,
        "neighbours": [
            {
                "name": n.name,
                "relation": n.relation,
                "detail": n.detail,
                "since": n.since,
                "until": n.until,
                "count": n.count,
                "direction": "to" if n.outgoing else "from",
            }
            for n in near
        ],
        "dead": dead,  # whose deaths `who` saw or was told of, by the horizon
        "knows": {p: knows_about(graph, who, p, now, limit=5) for p in people[:12]},
        "recent": [
            {"turn": p["turn"], "when": p["when"], "speaker": p["speaker"], "text": p["text"]}
            for p in seen[:recent]
        ],
    }


def render_report(r: dict) -> str:
    lines = [f"{r['character']} in scene {r['thread']}, at {r['horizon']}", "", "Relations:"]
    for n in r["neighbours"][:30]:
        until = f" until {n['until']}" if n["until"] else ""
        arrow = "->" if n["direction"] == "to" else "<-"
        what = f"{arrow} {n['relation']}" + (f" ({n['detail'].strip()})" if n["detail"] else "")
        lines.append(f"  {n['name']:<24} {what:<22} since {n['since']}{until}  x{n['count']}")
    lines += ["", f"Knows to be dead: {', '.join(r['dead']) or 'no one'}", "", "Knows:"]
    for person, facts in r["knows"].items():
        lines.append(f"  {person}: {' '.join(facts)}")
    lines += ["", "Recent memories:"]
    for m in r["recent"]:
        lines.append(f"  [{m['when']}] {m['speaker']}: {m['text']}")
    return "\n".join(lines)
