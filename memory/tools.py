"""LangChain tools over one character's memory: `recall` and `relationship`.

Bound to a character, so a tool-calling agent can only ask what that character could
know (its witnesses and its story horizon apply to every call). The scene graph's memory
step (agents/scene.py) calls them before each turn; `SceneMemory.tools_for` hands them
over.
"""

from __future__ import annotations

from typing import Protocol

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field

from dramatis.memory.clock import turn_moment
from dramatis.memory.graph import MemoryGraph
from dramatis.memory.knowledge import TALK, knows_about, relation
from dramatis.memory.lines import remembered
from dramatis.memory.retrieval import Horizon, Memory


class RecallInput(BaseModel):
    query: str = Field(description="What to remember, in a few words or a line of speech.")
    k: int = Field(default=4, ge=1, le=20, description="How many memories.")


class RelationshipInput(BaseModel):
    other: str = Field(description="The other character's name.")


class ToolMemory(Protocol):
    """What the tools ask of a scene's memory (memory.scene_memory.SceneMemory has it)."""

    graph: MemoryGraph

    def memories(self, who: str, cue: str, k: int = 4) -> list[Memory]: ...

    def horizon(self, who: str) -> Horizon: ...


def memory_tools(memory: ToolMemory, character: str) -> list[BaseTool]:
    """[recall, relationship] for `character` in this scene."""

    def recall(query: str, k: int = 4) -> str:
        lines = [remembered(m, character) for m in memory.memories(character, query, k)]
        return "\n".join(lines) or f"{character} remembers nothing of that."

    def relationship(other: str) -> str:
        at = memory.horizon(character)
        now = turn_moment(at.scene, at.turns) if at.turns else at.scene
        known = relation(memory.graph, character, other, now).split(". ")
        more = knows_about(memory.graph, character, other, now, limit=4)
        said = [s if s.endswith(".") else s + "." for s in (*known, *more) if s]
        # deaths, kin, service first; who has spoken with whom last (knowledge.TALK)
        said.sort(key=lambda s: any(t in s for t in TALK))
        return " ".join(dict.fromkeys(said))

    return [
        StructuredTool.from_function(
            recall,
            name="recall",
            description=f"What {character} remembers seeing or hearing that bears on a query.",
            args_schema=RecallInput,
        ),
        StructuredTool.from_function(
            relationship,
            name="relationship",
            description=f"How {character} stands with another character, as far as they know.",
            args_schema=RelationshipInput,
        ),
    ]
