"""Speaker policies: who speaks next.

A policy is a pure function of the cast, the turns so far and a seeded random
generator, so a resumed scene picks exactly as an uninterrupted one would.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from dramatis.agents.addressing import mentions
from dramatis.agents.learned_policy import LearnedPolicy
from dramatis.agents.turn import Turn
from dramatis.core.errors import DramatisError


class SpeakerPolicy(Protocol):
    name: str

    def choose(self, cast: Sequence[str], turns: Sequence[Turn], rng: random.Random) -> str: ...


class RoundRobin:
    """Cast order, starting after whoever spoke last."""

    name = "round-robin"

    def choose(self, cast: Sequence[str], turns: Sequence[Turn], rng: random.Random) -> str:
        last = turns[-1]["speaker"] if turns else ""
        if last in cast:
            return cast[(list(cast).index(last) + 1) % len(cast)]
        return cast[0]

    def probabilities(self, cast: Sequence[str], turns: Sequence[Turn]) -> list[float]:
        """How likely each cast member is chosen: one of them, certainly."""
        pick = self.choose(cast, turns, random.Random(0))
        return [float(name == pick) for name in cast]


class AddressedName:
    """Weighted draw: a character named by the last speaker is likelier to answer.

    Nobody speaks twice in a row unless alone on stage. A person (a "human" turn)
    who names characters is answered by one of them.
    """

    name = "addressed"

    def __init__(
        self, addressed_weight: float = 6.0, talkativeness: Mapping[str, float] | None = None
    ) -> None:
        self.addressed_weight = addressed_weight
        # A character card's talkativeness (0..1, default 0.5) scales how readily one
        # speaks unaddressed: weight 2 * t, so 0.5 is the plain 1.0 and 0 waits to be named.
        self.talkativeness = dict(talkativeness or {})

    def weights(self, cast: Sequence[str], turns: Sequence[Turn]) -> list[float]:
        """Draw weights per cast member.

        weights(["Hamlet", "Ophelia", "Horatio"], [Hamlet: "Nymph, ... Ophelia?"]) -> [0, 6, 1]
        """
        last = turns[-1] if turns else {"speaker": "", "text": "", "source": ""}
        named = [mentions(last["text"], n) and n != last["speaker"] for n in cast]
        if last["source"] == "human" and any(named):  # a person's question is answered
            return [1.0 if hit else 0.0 for hit in named]
        out = []
        for name in cast:
            if name == last["speaker"] and len(cast) > 1:
                out.append(0.0)
            elif mentions(last["text"], name):
                out.append(self.addressed_weight)
            else:
                out.append(2.0 * self.talkativeness.get(name, 0.5))
        if not any(out):  # nobody willing and nobody named: anyone but the last speaker
            out = [0.0 if n == last["speaker"] and len(cast) > 1 else 1.0 for n in cast]
        return out

    def probabilities(self, cast: Sequence[str], turns: Sequence[Turn]) -> list[float]:
        """How likely each cast member is drawn: the weights, normalised."""
        weights = self.weights(cast, turns)
        return [w / sum(weights) for w in weights]

    def choose(self, cast: Sequence[str], turns: Sequence[Turn], rng: random.Random) -> str:
        return rng.choices(list(cast), weights=self.weights(cast, turns), k=1)[0]


def reply_count(human_turn: Turn, speakers: Sequence[str], rng: random.Random) -> int:
    """How many characters answer a person: one when a single one is named or only one
    is on stage, else one and then each further one with even odds, as a group would.

    reply_count({"text": "Horatio, speak."}, ["Hamlet", "Horatio"], rng) -> 1
    """
    if len(speakers) <= 1:
        return len(speakers)
    if sum(mentions(human_turn["text"], n) for n in speakers) == 1:
        return 1
    count = 1
    while count < len(speakers) and rng.random() < 0.5:
        count += 1
    return count


class RandomSpeaker:
    """Anyone but the last speaker, uniformly: the baseline other policies must beat."""

    name = "random"

    def choose(self, cast: Sequence[str], turns: Sequence[Turn], rng: random.Random) -> str:
        return rng.choice(self._pool(cast, turns))

    def probabilities(self, cast: Sequence[str], turns: Sequence[Turn]) -> list[float]:
        """How likely each cast member is drawn: 1/len(pool) for each of the pool."""
        pool = self._pool(cast, turns)
        return [1.0 / len(pool) if name in pool else 0.0 for name in cast]

    @staticmethod
    def _pool(cast: Sequence[str], turns: Sequence[Turn]) -> list[str]:
        last = turns[-1]["speaker"] if turns else ""
        return [name for name in cast if name != last] or list(cast)


Talkativeness = Mapping[str, float]


@dataclass(frozen=True)
class PolicyEntry:
    """A registered policy: its name, a one-line help and how to make one."""

    name: str
    help: str
    make: Callable[[Talkativeness | None], SpeakerPolicy]


_REGISTRY: dict[str, PolicyEntry] = {}


def register(entry: PolicyEntry) -> PolicyEntry:
    """Add a policy (a later entry of the same name replaces the earlier one)."""
    _REGISTRY[entry.name] = entry
    return entry


def policy_names() -> list[str]:
    """Every registered policy, in registration order: ["addressed", "round-robin", ...]."""
    return list(_REGISTRY)


def policy_help() -> str:
    """The `--policy` help text, read from the registry."""
    lines = "; ".join(f"{e.name}: {e.help}" for e in _REGISTRY.values())
    return f"Speaker policy ({lines})."


def make_policy(name: str, talkativeness: Talkativeness | None = None) -> SpeakerPolicy:
    """A policy by name; `talkativeness` (per character, 0..1) weighs the addressed policy."""
    if name not in _REGISTRY:
        raise DramatisError(f"unknown speaker policy {name!r}: use one of {', '.join(_REGISTRY)}")
    return _REGISTRY[name].make(talkativeness)


for _entry in (
    PolicyEntry(
        "addressed",
        "weighted draw, the character named in the last speech likeliest",
        lambda t: AddressedName(talkativeness=t),
    ),
    PolicyEntry("round-robin", "cast order", lambda t: RoundRobin()),
    PolicyEntry("random", "anyone but the last speaker, uniformly", lambda t: RandomSpeaker()),
    PolicyEntry(
        "learned",
        "the likeliest next speaker by the plays' own turn-taking",
        lambda t: LearnedPolicy(),
    ),
    PolicyEntry(
        "learned-draw",
        "drawn by the plays' own turn-taking (less back-and-forth than learned)",
        lambda t: LearnedPolicy(sample=True),
    ),
):
    register(_entry)
