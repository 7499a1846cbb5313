"""What a character knows, as data (for --json) and as text: the graph's neighbours and
relations with since/until, and the newest scene memories the character witnessed."""

from __future__ import annotations

from pathlib import Path

from dramatis.core.errors import DramatisError
from dramatis.memory.clock import turn_moment
from dramatis.memory.graph import MemoryGraph
from dramatis.memory.knowledge import knows_about, neighbours
from dramatis.memory.mirror import Where
from dramatis.memory.stores import Store


def knowledge_report(
    graph: MemoryGraph, store: Store, thread: str, who: str, horizon: str, recent: int = 8
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


def saved_turns(db: Path, thread: str) -> list[dict]:
    """The turns in a scene's newest checkpoint (the scenes database LangGraph writes)."""
    import sqlite3

    from langgraph.checkpoint.sqlite import SqliteSaver

    if not db.exists():
        raise DramatisError(f"no scenes database at {db}: stage a scene with --memory first")
    conn = sqlite3.connect(str(db), check_same_thread=False)
    try:
        config = {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}
        saved = SqliteSaver(conn).get_tuple(config)  # type: ignore[arg-type]
    finally:
        conn.close()
    if saved is None:
        raise DramatisError(f"no scene {thread!r} in {db}: `dramatis scenes` lists them")
    return list(saved.checkpoint["channel_values"].get("turns", []))


def turn_step(db: Path, thread: str, index: int) -> dict:
    """Turn `index` of a scene with its memory step: who spoke, what, and each tool call
    with its arguments and result (empty for a play line or a person's line)."""
    turns = saved_turns(db, thread)
    if not 0 <= index < len(turns):
        have = f"turns 0-{len(turns) - 1}" if turns else "no turns"
        raise DramatisError(f"scene {thread} has {have}: pick one of them with --turn")
    t = turns[index]
    return {"thread": thread, "turn": index, "speaker": t["speaker"], "text": t["text"],
            "source": t["source"], "tools": list(t.get("tools") or [])}  # fmt: skip


def render_step(step: dict) -> str:
    lines = [f"Turn {step['turn']} of {step['thread']}, {step['speaker']}: {step['text']}", ""]
    if not step["tools"]:
        why = (
            "a line of the play or a person's"
            if step["source"] in ("play", "human")
            else ("the scene has no memory")
        )
        return "\n".join([*lines, f"No memory step ({why})."])
    lines.append("Memory step:")
    for call in step["tools"]:
        args = ", ".join(f"{k}={v!r}" for k, v in call["args"].items())
        lines.append(f"  {call['tool']}({args})")
        lines += [f"    {line}" for line in str(call["result"]).splitlines() or ["(nothing)"]]
    return "\n".join(lines)
