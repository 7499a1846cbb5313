"""The scene graph: select_speaker -> [remember] -> speak -> observe -> (done | select_speaker).

A LangGraph StateGraph over plain JSON-like state, checkpointed after every step
(durability "sync"), one thread id per scene. Agents, the model and the policy
live outside the state, so the same graph is rebuilt in a new process to resume.

With memory, `remember` calls the speaker's LangChain tools (`relationship` for those on
stage, `recall` cued by the last two speeches) and checkpoints the calls and results;
`speak` gives the agent exactly those results and keeps them in the turn (`tools`).
"""

from __future__ import annotations

import operator
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Protocol, TypedDict, cast

from langchain_core.runnables import RunnableConfig
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph

from dramatis.agents.character import CharacterAgent
from dramatis.agents.policies import SpeakerPolicy
from dramatis.agents.recall import ToolLines, lines_from_calls
from dramatis.agents.turn import Turn, make_turn
from dramatis.core.errors import DramatisError


class SceneState(TypedDict, total=False):
    turns: Annotated[list[Turn], operator.add]  # append-only: a saved turn is never rewritten
    next_speaker: str
    present: list[str]  # who is on stage now (absent: everyone); set by invite/dismiss
    recalling: dict  # the memory step's calls for the turn about to be spoken


class Observer(Protocol):
    """Anything that wants each new turn, e.g. the characters' memories. One that also
    has `retract(keep)` is told when the scene goes back to its first `keep` turns
    (undo, retry), so it can forget the rest."""

    def observe(self, turn: Turn) -> None: ...


@dataclass(frozen=True)
class Partial:
    """Streamed while a character speaks: the cleaned text so far."""

    speaker: str
    text: str


class _Stopped(Exception):
    """Raised from the streaming callback when `SceneGraph.stop()` was called."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def turn_seed(seed: int, index: int, variant: int = 0) -> int:
    """Seed for turn `index`: fixed by the scene seed, so a resumed scene samples
    the turns it has not reached yet exactly as an uninterrupted run would.
    `variant` > 0 samples the same turn again differently (a retry).

    turn_seed(7, 3) -> 7003; turn_seed(7, 3, variant=2) -> 2007003
    """
    return seed * 1000 + index + 1_000_000 * variant


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
        human: str | None = None,
        tools: Callable[[str], Sequence[Any]] | None = None,
        recalled: ToolLines | None = None,
    ) -> None:
        self.agents = dict(agents)
        self.cast = list(self.agents)
        self.human = human  # a participant typed by a person, with no agent (chat)
        self._stop = threading.Event()
        self.policy = policy
        self.setting = setting
        self.seed = seed
        self.observers = observers
        self.tools = tools  # a character's LangChain memory tools (memory.SceneMemory.tools_for)
        self.recalled = recalled  # the agents' MemorySource, filled from the memory step
        self.graph = self._build().compile(checkpointer=checkpointer)

    def _build(self) -> StateGraph:
        g = StateGraph(SceneState)
        g.add_node("select_speaker", self._select_speaker)
        g.add_node("speak", self._speak)
        g.add_node("observe", self._observe)
        g.add_conditional_edges(START, self._route, ["select_speaker", END])
        if self.tools is not None:
            g.add_node("remember", self._remember)
            g.add_edge("select_speaker", "remember")
            g.add_edge("remember", "speak")
        else:
            g.add_edge("select_speaker", "speak")
        g.add_edge("speak", "observe")
        g.add_conditional_edges("observe", self._route_after_turn, ["select_speaker", END])
        return g

    @staticmethod
    def _route(state: SceneState, config: RunnableConfig) -> str:
        # The target lives in the run's config, not the state: a resumed run sets a
        # new one without rewriting the checkpoint it continues from.
        done = len(state.get("turns", [])) >= config["configurable"].get("stop_at", 0)
        return END if done else "select_speaker"

    def _route_after_turn(self, state: SceneState, config: RunnableConfig) -> str:
        return END if self._stop.is_set() else self._route(state, config)

    def _present(self, state: SceneState) -> list[str]:
        default = self.cast + ([self.human] if self.human else [])
        return list(state.get("present") or default)

    def _select_speaker(self, state: SceneState, config: RunnableConfig) -> dict:
        turns = state.get("turns", [])
        options = config["configurable"]
        if options.get("speaker") and options.get("at") == len(turns):
            return {"next_speaker": options["speaker"]}  # asked for by name (a retry)
        speakers = [n for n in self._present(state) if n in self.agents]
        rng = random.Random(turn_seed(self.seed, len(turns)))
        return {"next_speaker": self.policy.choose(speakers, turns, rng)}

    def _remember(self, state: SceneState) -> dict:
        """Call the speaker's memory tools; the calls and results go into the checkpoint."""
        assert self.tools is not None
        turns = state.get("turns", [])
        name = state["next_speaker"]
        agent = self.agents[name]
        history = agent.visible(turns)
        cue = " ".join(t["text"] for t in history[-2:]) or self.setting
        said = [t["speaker"] for t in reversed(history)]  # the latest speakers first
        here = [n for n in self._present(state) if n != name]
        others = sorted(here, key=lambda n: said.index(n) if n in said else len(said))
        calls: list[dict[str, Any]] = [
            {"tool": "relationship", "args": {"other": other}} for other in others[:2]
        ]
        calls.append({"tool": "recall", "args": {"query": cue, "k": 2 * agent.settings.memory_k}})
        tools = {tool.name: tool for tool in self.tools(name)}
        for call in calls:
            tool = tools.get(call["tool"])
            call["result"] = str(tool.invoke(call["args"])) if tool is not None else ""
        return {"recalling": {"at": len(turns), "speaker": name, "calls": calls}}

    def _speak(self, state: SceneState, config: RunnableConfig) -> dict:
        turns = state.get("turns", [])
        name = state["next_speaker"]
        write = get_stream_writer()
        variant = config["configurable"].get("variant", 0)
        step = state.get("recalling") or {}
        calls = (
            step.get("calls")
            if (step.get("at"), step.get("speaker")) == (len(turns), name)
            else None
        )
        if self.recalled is not None and self.tools is not None:
            self.recalled.lines[name] = lines_from_calls(calls or [])

        def on_text(text: str) -> None:
            write(Partial(name, text))
            if self._stop.is_set():
                raise _Stopped(text)

        try:
            said = self.agents[name].speak(
                turns,
                self.setting,
                seed=turn_seed(self.seed, len(turns), variant),
                on_text=on_text,
                present=state.get("present") or None,  # a chat's invite and dismiss
            )
            text, source, tokens, seconds = said.text, said.source, said.tokens, said.seconds
            attempts, candidates = said.attempts, list(said.candidates)
        except _Stopped as stopped:  # keep what was said so far; the run ends after it
            text, source, tokens, seconds, attempts = stopped.text, "stopped", 0, 0.0, 0
            candidates = []
        turn = make_turn(
            len(turns),
            name,
            text,
            source=source,
            present=self._present(state),
            tokens=tokens,
            seconds=seconds,
            tools=calls,
            attempts=attempts,
            candidates=candidates,
        )
        return {"turns": [turn]}

    def _observe(self, state: SceneState) -> dict:
        for observer in self.observers:
            observer.observe(state["turns"][-1])
        return {}

    def config(self, thread_id: str, stop_at: int = 0, **options: object) -> RunnableConfig:
        return {"configurable": {"thread_id": thread_id, "stop_at": stop_at, **options}}

    def turns(self, thread_id: str) -> list[Turn]:
        """Every saved turn of the scene, oldest first."""
        values = self.graph.get_state(self.config(thread_id)).values
        return list(values.get("turns", []))

    def run(
        self,
        thread_id: str,
        turns: int,
        opening: list[Turn] | None = None,
        *,
        speaker: str | None = None,
        variant: int = 0,
    ) -> Iterator[Partial | Turn]:
        """Add `turns` turns to the scene, yielding partial text and each finished turn.

        Each turn is in the checkpoint before it is yielded, so an interrupted run
        resumes with no saved turn lost or repeated. `speaker` names who speaks the
        first of them (else the policy picks); `variant` > 0 samples it anew. After
        `stop()` the turn being spoken ends with what it said so far (source
        "stopped") and the run ends.
        """
        self._stop.clear()
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
        have_now = len(have) + (len(opening or []) if seed_opening else 0)
        if speaker is not None and speaker not in self.agents:
            raise DramatisError(f"{speaker!r} has no agent in this scene: pick one of {self.cast}")
        if turns and not speaker and not self.on_stage(thread_id, snapshot.values):
            raise DramatisError("nobody is on stage to speak: invite a character first")
        stream = self.graph.stream(
            update,
            self.config(thread_id, stop_at, speaker=speaker or "", at=have_now, variant=variant),
            stream_mode=["custom", "updates"],
            durability="sync",
        )
        for mode, payload in cast(Iterator[tuple[str, Any]], stream):
            if mode == "custom":
                yield payload
            elif "speak" in payload:
                turn = payload["speak"]["turns"][-1]
                self._wait_saved(thread_id, turn["index"])
                yield turn

    def _wait_saved(self, thread_id: str, index: int, limit_s: float = 30.0) -> None:
        """Wait until turn `index` is in the checkpointer: LangGraph streams a step's
        update as soon as it hands the step's writes to a background thread, before they
        are committed, and a turn shown must be a turn saved (a kill in between lost it)."""
        saver = self.graph.checkpointer
        if saver is None or saver is True or saver is False:
            return
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            saved = saver.get_tuple({"configurable": {"thread_id": thread_id}})
            if saved is not None:
                held = saved.checkpoint["channel_values"].get("turns", [])
                held = [*held, *(t for _, c, v in saved.pending_writes or [] if c == "turns"
                                 for t in v)]  # fmt: skip
                if any(t.get("index") == index for t in held):
                    return
            time.sleep(0.002)

    def stop(self) -> None:
        """Ask a running `run` (in another thread) to end after what is said so far."""
        self._stop.set()

    def on_stage(self, thread_id: str, values: Mapping[str, Any] | None = None) -> list[str]:
        """Characters present now who can speak (have an agent)."""
        if values is None:
            values = self.graph.get_state(self.config(thread_id)).values
        return [n for n in self._present(cast(SceneState, values)) if n in self.agents]

    def present(self, thread_id: str) -> list[str]:
        """Everyone on stage now, the human participant included."""
        return self._present(cast(SceneState, self.graph.get_state(self.config(thread_id)).values))

    def set_present(self, thread_id: str, names: list[str]) -> None:
        """Record who is on stage from now on (a checkpoint, so undo restores it)."""
        self._write(self.config(thread_id), {"present": list(names)})

    def say(self, thread_id: str, speaker: str, text: str, source: str = "human") -> Turn:
        """Add a turn spoken outside the graph (a person typing), checkpointed like any."""
        values = self.graph.get_state(self.config(thread_id)).values
        turns = values.get("turns", [])
        present = self._present(cast(SceneState, values))
        turn = make_turn(len(turns), speaker, text, source=source, present=present)
        self._write(self.config(thread_id), {"turns": [turn]})
        for observer in self.observers:
            observer.observe(turn)
        return turn

    def rewind(self, thread_id: str, keep: int) -> list[Turn]:
        """Branch the scene from its checkpoint with the first `keep` turns: that
        checkpoint becomes the thread's head (the dropped turns stay in history)."""
        now = self.turns(thread_id)
        if not 0 <= keep <= len(now):
            raise DramatisError(f"cannot go back to turn {keep}: the scene has {len(now)} turns")
        for snap in self.graph.get_state_history(self.config(thread_id)):
            if snap.values.get("turns", []) == now[:keep]:
                self._write(snap.config, {})
                for observer in self.observers:
                    retract = getattr(observer, "retract", None)
                    if retract is not None:  # what the taken-back turns left in memory
                        retract(keep)
                return now[keep:]
        raise DramatisError(f"no checkpoint with {keep} turns in thread {thread_id!r}")

    def versions(self, thread_id: str, index: int) -> int:
        """How many different texts turn `index` has had on any branch of the thread."""
        texts = set()
        for snap in self.graph.get_state_history(self.config(thread_id)):
            turns = snap.values.get("turns", [])
            if len(turns) > index:
                texts.add(turns[index]["text"])
        return len(texts)

    def retry(self, thread_id: str) -> Iterator[Partial | Turn]:
        """Say the last spoken turn again, same speaker, another seed."""
        turns = self.turns(thread_id)
        if not turns or turns[-1]["speaker"] not in self.agents:
            raise DramatisError("nothing to retry: the last turn is not a character's")
        last = turns[-1]
        variant = self.versions(thread_id, last["index"])
        self.rewind(thread_id, len(turns) - 1)
        return self.run(thread_id, 1, speaker=last["speaker"], variant=variant)

    def _write(self, config: RunnableConfig, values: dict) -> None:
        # As if `observe` had run: the head is at a turn boundary, with nothing pending.
        self.graph.update_state(config, values, as_node="observe")
