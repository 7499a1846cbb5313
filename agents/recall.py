"""What a character's memories bring to its next speech, and how a turn is steered to use it.

A memory line is useful when it holds something the rest of the prompt does not: a name,
a deed, a thing heard in another scene. `memory_cues` finds those words (five letters or
more, not already on the page). The agent can then raise their logits a little
(`AgentSettings.memory_boost`) and, drawing several candidates, prefer one that takes
up a cue (`AgentSettings.prefer_memory`). Both are measured in docs/memory.md.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from dramatis.agents.prompts import OUT_OF_WORLD

# Words too common to be what a memory brings, whatever their length.
_COMMON_WORDS = """about above after again against being below between could doing during
    every father first great heaven hence himself itself little might mother myself
    never other ourselves remember remembers shall should since still their there
    these thing think those though thought three through under until where which
    while whose would yourself madam"""
_COMMON = frozenset(_COMMON_WORDS.split())


def words(text: str) -> set[str]:
    """Lower-case words of five letters or more.

    words("Polonius is dead, my lord.") -> {"polonius"}
    """
    return {w for w in re.findall(r"[a-z]{5,}", text.lower())}


def memory_cues(memories: Sequence[str], prompt: str, *, limit: int = 24) -> tuple[str, ...]:
    """The words `memories` hold that the rest of `prompt` does not, first seen first,
    spelled as first seen (a name keeps its capital).

    The memory lines are taken out of `prompt` before comparing, so a cue is what only
    the memories bring. Common and out-of-world words are never cues.
    memory_cues(['Laertes said: "Farewell"'], 'HAMLET: farewell [Laertes said: "Farewell"]')
        -> ("Laertes",)
    """
    rest = prompt
    for line in memories:
        rest = rest.replace(line, " ")
    known = words(rest) | _COMMON | set(OUT_OF_WORLD)
    found: dict[str, str] = {}  # lower case -> first spelling
    for line in memories:
        for w in re.findall(r"[A-Za-z]{5,}", line):
            if w.lower() not in known:
                found.setdefault(w.lower(), w)
    return tuple(found.values())[:limit]


def takes_up(text: str, cues: Sequence[str]) -> bool:
    """Whether a speech uses any cue word.

    takes_up("Where is Laertes?", ("laertes",)) -> True
    """
    return bool(words(text) & {c.lower() for c in cues})


class ToolLines:
    """A MemorySource whose lines come from the scene graph's memory step: the results
    of this turn's `recall` and `relationship` tool calls (agents/scene.py), so what an
    agent remembers is what the checkpointed calls returned."""

    def __init__(self) -> None:
        self.lines: dict[str, tuple[str, ...]] = {}  # character -> lines of its last step

    def recall(self, character: str, cue: str, k: int) -> list[str]:
        return list(self.lines.get(character, ()))[:k]


def lines_from_calls(calls: Sequence[dict], facts: int = 3) -> tuple[str, ...]:
    """The prompt lines a memory step's tool results hold: up to `facts` sentences from
    `relationship` calls (none that only say two have not met), then every remembered
    line `recall` returned.

    lines_from_calls([{"tool": "relationship", "result": "Polonius is dead. Hamlet and
    Osric have not met."}, {"tool": "recall", "result": 'Hamlet said: "Farewell."'}])
      -> ("Polonius is dead.", 'Hamlet said: "Farewell."')
    """
    known: list[str] = []
    heard: list[str] = []
    for call in calls:
        result = str(call.get("result", ""))
        if call.get("tool") == "relationship":
            known += [s for s in re.split(r"(?<=\.)\s+", result) if s and "have not met" not in s]
        elif call.get("tool") == "recall":
            heard += [line for line in result.splitlines() if " said: " in line]
    return (*list(dict.fromkeys(known))[:facts], *heard)
