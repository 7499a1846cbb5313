"""A next-speaker policy learned from the canon's own turn-taking.

A log-linear scorer: each character on stage gets features of the turns so far (named
in the last speech, spoke two turns ago, just entered, ...); its score is their dot
product with weights fitted by maximum likelihood on the plays (agents/policy_fit.py,
`python -m dramatis.agents.policy_fit`), shipped as agents/data/next_speaker.json.
The policy takes the highest score (ties: cast order), or samples the softmax.
"""

from __future__ import annotations

import functools
import json
import math
import random
from collections.abc import Sequence
from pathlib import Path

from dramatis.agents.addressing import calls_on, mentions
from dramatis.agents.turn import Turn
from dramatis.core.errors import DramatisError

WEIGHTS_FILE = Path(__file__).parent / "data" / "next_speaker.json"

FEATURES = (
    "spoke_last",  # self-continuation: rare in the plays (a direction between two speeches)
    "spoke_two_ago",  # reply-back: A, B, A
    "named_last",  # the last speech names the candidate
    "called_last",  # ... in its first or last few words, as a vocative
    "named_before",  # one of the two speeches before the last names the candidate
    "question_back",  # the last speech asks a question and the candidate spoke two turns ago
    "short_back",  # the last speech is short (< 8 words) and the candidate spoke two turns ago
    "share",  # the candidate's share of the speeches so far (0..1)
    "silent",  # has not spoken yet in the scene
    "gap_3",  # last spoke three turns ago
    "gap_4_plus",  # last spoke four or more turns ago
    "arrived",  # not on stage at one of the last two speeches: just came in
)


def features(name: str, turns: Sequence[Turn]) -> list[float]:
    """The candidate's feature vector (FEATURES order) given the turns so far.

    features("Ophelia", [Hamlet: "Soft you now, the fair Ophelia!"]) -> [0, 0, 1, 1, 0, 0, ...]
    """
    if not turns:  # the scene's first speech: nobody has spoken
        return [float(f == "silent") for f in FEATURES]
    speakers = [t["speaker"] for t in turns]
    last = turns[-1]
    own = last["speaker"] == name
    back = len(turns) > 1 and speakers[-2] == name and not own
    named = not own and mentions(last["text"], name)
    before = any(t["speaker"] != name and mentions(t["text"], name) for t in turns[-3:-1])
    gap = next((k for k, s in enumerate(reversed(speakers), 1) if s == name), 0)
    return [
        float(own),
        float(back),
        float(named),
        float(named and calls_on(last["text"], name)),
        float(before),
        float(back and last["text"].rstrip().endswith("?")),
        float(back and len(last["text"].split()) < 8),
        speakers.count(name) / len(speakers),
        float(gap == 0),
        float(gap == 3),
        float(gap >= 4),
        float(any(t["present"] and name not in t["present"] for t in turns[-2:])),
    ]


def softmax(scores: Sequence[float]) -> list[float]:
    """Probabilities from scores: softmax([0.0, 0.0]) -> [0.5, 0.5]."""
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    return [e / sum(exps) for e in exps]


@functools.lru_cache(maxsize=4)
def load_weights(path: Path = WEIGHTS_FILE) -> tuple[float, ...]:
    """The fitted weights, in FEATURES order; DramatisError if stale or missing."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise DramatisError(
            f"next-speaker weights unreadable ({err}): run `python -m dramatis.agents.policy_fit`"
        ) from None
    if tuple(data.get("features", ())) != FEATURES:
        raise DramatisError(
            f"{path} was fitted on other features: run `python -m dramatis.agents.policy_fit`"
        )
    return tuple(float(w) for w in data["weights"])


class LearnedPolicy:
    """The character the canon's turn-taking makes likeliest to speak next."""

    name = "learned"

    def __init__(self, weights: Sequence[float] | None = None, sample: bool = False) -> None:
        self.weights = tuple(weights) if weights is not None else load_weights()
        self.sample = sample  # draw from the softmax instead of taking the top score

    def scores(self, cast: Sequence[str], turns: Sequence[Turn]) -> list[float]:
        """One log-linear score per cast member."""
        return [
            sum(w * f for w, f in zip(self.weights, features(n, turns), strict=True)) for n in cast
        ]

    def probabilities(self, cast: Sequence[str], turns: Sequence[Turn]) -> list[float]:
        """How likely this policy is to choose each cast member."""
        scores = self.scores(cast, turns)
        if self.sample:
            return softmax(scores)
        top = scores.index(max(scores))
        return [float(i == top) for i in range(len(cast))]

    def choose(self, cast: Sequence[str], turns: Sequence[Turn], rng: random.Random) -> str:
        probs = self.probabilities(cast, turns)
        if self.sample:
            return rng.choices(list(cast), weights=probs, k=1)[0]
        return cast[probs.index(1.0)]
