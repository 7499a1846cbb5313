"""The scene graph: select_speaker -> speak -> observe -> (done | select_speaker).

A LangGraph StateGraph over plain JSON-like state, checkpointed after every step
(durability "sync"), one thread id per scene. Agents, the model and the policy
live outside the state, so the same graph is rebuilt in a new process to resume.
"""

from __future__ import annotations

import operator
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Protocol, TypedDict, cast

from langchain_core.runnables import RunnableConfig
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph

from dramatis.agents.character import CharacterAgent
from dramatis.agents.policies import SpeakerPolicy
from dramatis.agents.turn import Turn, make_turn


class SceneState(TypedDict, total=False):
    turns: Annotated[list[Turn], operator.add]  # append-only: a saved turn is never rewritten
    next_speaker: str


class Observer(Protocol):
    """Anything that wants each new turn, e.g. the characters' memories."""

    def observe(self, turn: Turn) -> None: ...


@dataclass(frozen=True)
class Partial:
    """Streamed while a character speaks: the cleaned text so far."""

    speaker: str
    text: str


def turn_seed(seed: int, index: int) -> int:
    """Seed for turn `index`: fixed by the scene seed, so a resumed scene samples
    the turns it has not reached yet exactly as an uninterrupted run would.

    turn_seed(7, 3) -> 7003
    """
    return seed * 1000 + index


class SceneGraph:
    def __init__(
        self,
        agents: Mapping[str, CharacterAgent],
        policy: SpeakerPolicy,
        *,
        setting: str,
        seed: int,
        checkpointer: Any,
        observers: tuple[Observer, ...] = (),
    ) -> None:
        self.agents = dict(agents)
        self.cast = list(self.agents)
        self.policy = policy
        self.setting = setting
        self.seed = seed
        self.observers = observers
        self.graph = self._build().compile(checkpointer=checkpointer)

    def _build(self) -> StateGraph:
        g = StateGraph(SceneState)
        g.add_node("select_speaker", self._select_speaker)
        g.add_node("speak", self._speak)
        g.add_node("observe", self._observe)
        g.add_conditional_edges(START, self._route, ["select_speaker", END])
        g.add_edge("select_speaker", "speak")
        g.add_edge("speak", "observe")
        g.add_conditional_edges("observe", self._route, ["select_speaker", END])
        return g

    @staticmethod
    def _route(state: SceneState, config: RunnableConfig) -> str:
        # The target lives in the run's config, not the state: a resumed run sets a
        # new one without rewriting the checkpoint it continues from.
        done = len(state.get("turns", [])) >= config["configurable"]["stop_at"]
        return END if done else "select_speaker"

    def _select_speaker(self, state: SceneState) -> dict:
        turns = state.get("turns", [])
        rng = random.Random(turn_seed(self.seed, len(turns)))
        return {"next_speaker": self.policy.choose(self.cast, turns, rng)}

    def _speak(self, state: SceneState) -> dict:
        turns = state.get("turns", [])
        name = state["next_speaker"]
        write = get_stream_writer()
        said = self.agents[name].speak(
            turns,
            self.setting,
            seed=turn_seed(self.seed, len(turns)),
            on_text=lambda text: write(Partial(name, text)),
        )
        turn = make_turn(
            len(turns),
            name,
            said.text,
            source=said.source,
            present=self.cast,
            tokens=said.tokens,
            seconds=said.seconds,
        )
        return {"turns": [turn]}

    def _observe(self, state: SceneState) -> dict:
        for observer in self.observers:
            observer.observe(state["turns"][-1])
        return {}

    def config(self, thread_id: str, stop_at: int = 0) -> RunnableConfig:
        return {"configurable": {"thread_id": thread_id, "stop_at": stop_at}}

    def turns(self, thread_id: str) -> list[Turn]:
        """Every saved turn of the scene, oldest first."""
        values = self.graph.get_state(self.config(thread_id)).values
        return list(values.get("turns", []))

    def run(
        self, thread_id: str, turns: int, opening: list[Turn] | None = None
    ) -> Iterator[Partial | Turn]:
        """Add `turns` turns to the scene, yielding partial text and each finished turn.

        Each turn is in the checkpoint before it is yielded, so an interrupted run
        resumes with no saved turn lost or repeated.
        """
        snapshot = self.graph.get_state(self.config(thread_id))
        have = list(snapshot.values.get("turns", []))
        seed_opening = bool(opening) and not have  # the play's lines seed a new scene only
        stop_at = len(have) + (len(opening or []) if seed_opening else 0) + turns
        # A run cut off mid-step (Ctrl-C, a crash) continues where it stopped: its
        # pending tasks, including any whose writes were saved after the cut (a turn
        # spoken but not yet in a checkpoint), are taken up, not redone. Otherwise a
        # new run starts from START.
        update: SceneState | None = None
        if not snapshot.next and not snapshot.tasks:
            update = {"turns": list(opening or []) if seed_opening else []}
        stream = self.graph.stream(
            update,
            self.config(thread_id, stop_at),
            stream_mode=["custom", "updates"],
            durability="sync",
        )
        for mode, payload in cast(Iterator[tuple[str, Any]], stream):
            if mode == "custom":
                yield payload
            elif "speak" in payload:
                yield payload["speak"]["turns"][-1]
