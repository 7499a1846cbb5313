"""Word-level text helpers shared by the metrics: tokens, n-grams, normalised forms."""

from __future__ import annotations

import re
from collections.abc import Sequence

from dramatis.personas.vocabulary import mask_names as mask_names  # the metrics' import

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def words(text: str) -> list[str]:
    """Lower-case words, apostrophes kept inside a word.

    words("O, that this too too solid flesh!") -> ["o", "that", "this", "too", "too", "solid", "flesh"]
    """
    return _WORD.findall(text.lower().replace("\u2019", "'"))


def ngrams(tokens: Sequence[str], n: int) -> set[tuple[str, ...]]:
    """The set of n-grams of a token list.

    ngrams(["a", "b", "c"], 2) -> {("a", "b"), ("b", "c")}
    """
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def normal(text: str) -> str:
    """A comparison form: lower-case words joined by single spaces.

    normal("I am, sir.") -> "i am sir"
    """
    return " ".join(words(text))


def distinct(texts: Sequence[str], n: int) -> float:
    """Distinct-n: unique n-grams ÷ all n-grams over `texts` (0.0 when there are none).

    distinct(["a b a b"], 2) -> 2/3
    """
    total: list[tuple[str, ...]] = []
    for text in texts:
        toks = words(text)
        total += [tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)]
    return len(set(total)) / len(total) if total else 0.0
