"""Repetition: a turn that repeats an earlier turn of the scene, of any length ("I am,
sir." twelve times), and distinct-1 / distinct-2 over the scene's turns.

`repetition` ranges 0..1, the share of turns that repeat (lower is better): a turn
repeats when its words equal an earlier turn's, or when one holds the other whole and
the shorter has >= 3 words. `near_repetition` (0..1) also counts a turn of 4+ word
bigrams of which >= 60% occur in one earlier turn ("You're going to tell me that you
are a hero" after "You're going to tell me that I'm a hero"): calibrated on the 37
plays, where the near part flags 0.37% of real speeches against the 30 before them in
their scene (exact repeats, "My lord.", are real speech too and counted by both).
distinct-n ranges 0..1 (higher: more varied). `dwelling` (0..1) is the share of turns
that only turn over what the last 4 turns said: 60% or more of its topic words (words of
4+ letters outside the common ones the agents' `dwells` also skips; it has 3 or more)
are theirs. A scene that settles on one idea ("I am dead" reworded for six turns) scores
high on it while no repeat rule fires; in the 37 plays 1.7% of speeches dwell. Checked
on known inputs in tests/test_arena_metrics.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from dramatis.agents.guard import COMMON_TOPIC_WORDS
from dramatis.arena.context import Context
from dramatis.arena.metric import Key, Score, rate
from dramatis.arena.runs import Run
from dramatis.arena.words import distinct, normal, words

MIN_CONTAINED = 3  # words: shorter turns repeat only when equal
NEAR_SHARE = 0.6  # share of a turn's word bigrams found in one earlier turn
NEAR_MIN_BIGRAMS = 4
DWELL_LAST, DWELL_SHARE, DWELL_LEAST = 4, 0.6, 3


def repeats(text: str, earlier: Sequence[str]) -> bool:
    """Whether `text` repeats one of the `earlier` turns.

    repeats("I am, sir.", ["I am, sir!"]) -> True
    repeats("Go to.", ["Go to, I say, go to thy rest."]) -> False
    """
    mine = normal(text)
    if not mine:
        return False
    for other in map(normal, earlier):
        if mine == other:
            return True
        short, long = sorted((mine, other), key=len)
        if len(short.split()) >= MIN_CONTAINED and f" {short} " in f" {long} ":
            return True
    return False


def bigrams(text: str) -> set[tuple[str, str]]:
    tokens = normal(text).split()
    return set(zip(tokens, tokens[1:], strict=False))


def rewords_one(text: str, earlier: Sequence[str]) -> bool:
    """Whether most of `text`'s word pairs (it has 4 or more) come from one earlier turn."""
    mine = bigrams(text)
    if len(mine) < NEAR_MIN_BIGRAMS:
        return False
    return any(len(mine & bigrams(other)) >= NEAR_SHARE * len(mine) for other in earlier)


def nearly_repeats(text: str, earlier: Sequence[str]) -> bool:
    """Whether `text` repeats an earlier turn, or most of its word pairs come from one.

    nearly_repeats("You're going to tell me that you are a hero, and your country's at war.",
                   ["You're going to tell me that I'm a hero, and my country's at war."]) -> True
    nearly_repeats("Get thee to a nunnery.", ["I am a hero, and my country is at war."]) -> False
    """
    return repeats(text, earlier) or rewords_one(text, earlier)


def about(text: str) -> set[str]:
    """Topic words: 4+ letters, not common.

    about("But you're dead, my lord; 'twas a ghost.") -> {"you're", "dead", "'twas", "ghost"}
    """
    return {w for w in words(text) if len(w) >= 4 and w not in COMMON_TOPIC_WORDS}


def dwelling(text: str, earlier: Sequence[str]) -> bool:
    """Whether `text` only turns over the topic words of the last DWELL_LAST turns.

    dwelling("'Twas a ghost, my lord; but I'm dead.",
             ["He had not slept at all, for he was dead.",
              "But you're dead, my lord; 'twas a ghost."]) -> True
    """
    mine = about(text)
    if len(mine) < DWELL_LEAST:
        return False
    recent: set[str] = set()
    for other in earlier[len(earlier) - DWELL_LAST :] if earlier else ():
        recent |= about(other)
    return len(mine & recent) >= DWELL_SHARE * len(mine)


class Repetition:
    """Share of turns repeating an earlier turn; distinct-1 and distinct-2."""

    name = "repetition"
    keys = (
        Key("repetition", "lower", rating="penalty"),
        Key("near_repetition", "lower"),
        Key("dwelling", "lower"),
        Key("distinct_1", "higher", cli=False, table=False),
        Key("distinct_2", "higher", cli=False),
    )

    def score(self, run: Run, ctx: Context) -> Score:
        texts = [t["text"] for t in run.scored]
        flags = [repeats(text, texts[:i]) for i, text in enumerate(texts)]
        near = [
            f or rewords_one(text, texts[:i])
            for i, (text, f) in enumerate(zip(texts, flags, strict=True))
        ]
        return Score(
            {
                "repetition": rate(flags),
                "near_repetition": rate(near),
                "dwelling": rate([dwelling(t, texts[:i]) for i, t in enumerate(texts)]),
                "distinct_1": distinct(texts, 1),
                "distinct_2": distinct(texts, 2),
            },
            per_turn=[float(f) for f in flags],
        )
