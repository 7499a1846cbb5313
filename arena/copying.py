"""Copying and fallbacks, counted apart so copying can never pass for fidelity.

`copying`: share of generated turns that are a near-verbatim real line of the cast's
plays (memorized or retrieved): >= 80% of the turn's word trigrams occur in one real
speech (turns of 4+ words), or the turn equals a real speech (shorter turns).
`fallback`: share of turns the agent filled with a line from the play because every
attempt failed (source "fallback" in the transcript). Both range 0..1. Calibrated on
known inputs: the retrieval baseline copies ~100%, generated paraphrase does not.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from dramatis.arena.context import Context
from dramatis.arena.metric import Key, Score, rate
from dramatis.arena.runs import Run
from dramatis.arena.words import ngrams, normal, words

THRESHOLD = 0.8
N = 3


class LineIndex:
    """Word trigrams -> real speeches that hold them, over a set of plays."""

    def __init__(self, texts: list[str]) -> None:
        self.exact = {normal(t) for t in texts}
        self.by_gram: dict[tuple[str, ...], set[int]] = defaultdict(set)
        for i, text in enumerate(texts):
            for gram in ngrams(words(text), N):
                self.by_gram[gram].add(i)

    def copied(self, text: str) -> float:
        """Largest share of `text`'s trigrams found in a single real speech (1.0 for an
        exact short line).

        copied("To be, or not to be") on Hamlet's lines -> 1.0
        """
        toks = words(text)
        if len(toks) < N + 1:
            return 1.0 if normal(text) in self.exact else 0.0
        grams = ngrams(toks, N)
        hits: Counter[int] = Counter()
        for gram in grams:
            hits.update(self.by_gram.get(gram, ()))
        return max(hits.values()) / len(grams) if hits else 0.0


def line_index(ctx: Context) -> LineIndex:
    """The index over every speech of the cast's plays (cached on the context)."""
    if "line_index" not in ctx.cache:
        texts = [s.text for play in ctx.plays.values() for s in play.speeches()]
        ctx.cache["line_index"] = LineIndex(texts)
    return ctx.cache["line_index"]


class Copying:
    """Near-verbatim real lines among generated turns, and fallback turns, apart."""

    name = "copying"
    keys = (Key("copying", "lower", rating="penalty"), Key("fallback", "lower", rating="penalty"))

    def score(self, run: Run, ctx: Context) -> Score:
        index = line_index(ctx)
        turns = run.scored
        shares = [index.copied(t["text"]) if t.get("source") != "fallback" else 0.0 for t in turns]
        copies = [s >= THRESHOLD for s in shares]
        fallbacks = [t.get("source") == "fallback" for t in turns]
        return Score(
            {"copying": rate(copies), "fallback": rate(fallbacks)},
            per_turn=[float(c) for c in copies],
        )
