"""SceneMemory: the memories of one staged scene's characters.

It observes every turn (the scene graph's `observe` node): the turn goes into the
episodic collection with its witnesses and into the scene's MemoryGraph, which is saved
as JSON next to the scene. It answers `recall(character, cue, k)` with in-world lines:
what the character knows of the people around them, then what it remembers hearing.

Retraction: when the scene goes back (undo, retry), `retract(keep)` takes every turn
from `keep` on out of the episodic store, and rebuilds the graph from the play's seed
and the turns kept, so nothing a retracted turn said is remembered.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dramatis.memory.clock import Moment, turn_moment
from dramatis.memory.embed import Embedder
from dramatis.memory.graph import Fact, MemoryGraph
from dramatis.memory.importance import importance
from dramatis.memory.knowledge import prompt_facts
from dramatis.memory.lines import remembered
from dramatis.memory.retrieval import Horizon, Memory, Retriever
from dramatis.memory.seed import seed_graph
from dramatis.memory.store import point_id
from dramatis.memory.stores import Store
from dramatis.personas import load_play


@dataclass(frozen=True)
class Role:
    """A cast member's place in story time: its play and the scene it stands at."""

    play: str
    horizon: str  # "1.3", or "99.0" for the whole play


def named(text: str, cast: Sequence[str]) -> list[str]:
    """Cast members a turn names: named("Where is Ophelia?", ["Ophelia"]) -> ["Ophelia"]"""
    return [c for c in cast if re.search(rf"\b{re.escape(c.split()[0])}\b", text, re.IGNORECASE)]


def seeded_graph(roles: Mapping[str, Role]) -> MemoryGraph:
    """The plays' graph, each seeded up to the earliest horizon among its characters."""
    graph = MemoryGraph()
    for play in sorted({r.play for r in roles.values()}):
        horizon = min((r.horizon for r in roles.values() if r.play == play), key=Moment.parse)
        seed_graph(load_play(play), horizon, graph)
    return graph


class SceneMemory:
    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        graph: MemoryGraph,
        *,
        thread: str,
        roles: Mapping[str, Role],
        graph_path: Path | None = None,
        retriever: Retriever | None = None,
        seeded: Callable[[], MemoryGraph] | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.graph = graph
        self.thread = thread
        self.roles = dict(roles)
        self.graph_path = graph_path
        self.retriever = retriever or Retriever(store, embedder)
        # the graph before any scene turn (the play's seed), rebuilt once when needed
        self._seeded = seeded or (lambda: seeded_graph(self.roles))
        self.said = {int(p["turn"]): p["text"] for p in self._payloads()}
        # The scene's own place in story time: the earliest horizon of its cast.
        self.scene_at = min(
            (r.horizon for r in self.roles.values()), key=Moment.parse, default="99.0"
        )

    def _payloads(self) -> list[dict]:
        from dramatis.memory.mirror import Where

        return self.store.payloads("episodic", Where(equals=(("thread", self.thread),)))

    @property
    def seen(self) -> set[int]:
        """The turn indices remembered."""
        return set(self.said)

    def horizon(self, who: str) -> Horizon:
        role = self.roles[who]
        return Horizon(role.play, role.horizon, self.thread, len(self.said))

    # -- Observer -------------------------------------------------------------------
    def observe(self, turn: Mapping[str, Any]) -> None:
        """Remember a turn: idempotent, so a resumed scene can hand the same turn again;
        a different text at a remembered index (a retry) replaces it and all after it."""
        index = int(turn["index"])
        text = " ".join(turn["text"].split())
        if self.said.get(index) == text:
            return
        if index in self.said:
            self.retract(index)
        witnesses = sorted(set(turn["present"]) | {turn["speaker"]})
        when = turn_moment(self.scene_at, index)
        payload = {
            "kind": "episodic", "thread": self.thread, "turn": index, "when": when,
            "speaker": turn["speaker"], "witnesses": witnesses, "text": text,
            "source": turn.get("source", "model"), "importance": importance(turn["text"]),
        }  # fmt: skip
        vector = self.embedder.encode([payload["text"]])
        self.store.upsert("episodic", [point_id(self.thread, index)], vector, [payload])
        self._update_graph(turn, when, witnesses)
        self.said[index] = text
        if self.graph_path is not None:
            self.graph.save(self.graph_path)

    def sync(self, turns: Sequence[Mapping[str, Any]]) -> None:
        """Remember every turn not yet remembered (the play's opening lines, a resume);
        a resumed scene's memory of turns past its last (an undo cut short) goes."""
        if turns and any(i >= len(turns) for i in self.said):
            self.retract(len(turns))
        for turn in turns:
            self.observe(turn)

    def retract(self, keep: int) -> list[int]:
        """Forget turns `keep` and after (undo, retry): their episodic points go, and the
        graph is rebuilt from the play's seed and the turns kept. Returns the indices
        forgotten."""
        gone = sorted(i for i in self.said if i >= keep)
        if not gone:
            return []
        self.store.delete("episodic", [point_id(self.thread, i) for i in gone])
        for i in gone:
            del self.said[i]
        meta = dict(self.graph.g.graph)
        self.graph = self._seeded()
        self.graph.g.graph.update(meta)
        for p in sorted(self._payloads(), key=lambda p: int(p["turn"])):
            turn = {"index": int(p["turn"]), "speaker": p["speaker"], "text": p["text"]}
            self._update_graph(turn, p["when"], list(p["witnesses"]))
        if self.graph_path is not None:
            self.graph.save(self.graph_path)
        return gone

    def _update_graph(self, turn: Mapping[str, Any], when: str, witnesses: list[str]) -> None:
        speaker = turn["speaker"]
        source = f"scene {self.thread}, turn {turn['index']}"
        for other in witnesses:
            if other != speaker:
                self.graph.add_fact(Fact(speaker, "met", other, when, None, source, witnesses))
        for other in named(turn["text"], list(self.roles)):
            if other != speaker:
                kind = "addressed" if other in witnesses else "mentioned"
                self.graph.add_fact(Fact(speaker, kind, other, when, None, source, witnesses))

    def tools_for(self, character: str) -> list[Any]:
        """The LangChain tools (`recall`, `relationship`) bound to `character`."""
        from dramatis.memory.tools import memory_tools

        return memory_tools(self, character) if character in self.roles else []

    # -- the agents' MemorySource -----------------------------------------------------
    def memories(self, who: str, cue: str, k: int = 4) -> list[Memory]:
        if who not in self.roles:
            return []
        return self.retriever.recall(who, cue, self.horizon(who), k)

    def recall(self, character: str, cue: str, k: int = 4) -> list[str]:
        """In-world lines for `character`'s prompt, most useful first."""
        if character not in self.roles:
            return []
        at = self.horizon(character)
        now = turn_moment(at.scene, at.turns) if at.turns else at.scene
        facts = prompt_facts(self.graph, character, now, limit=3)
        return facts + [remembered(m, character) for m in self.memories(character, cue, k)]
