"""Which word forms count as Early Modern: frequent in the plays, rare in modern English.

`derive_forms` is the rule; `FORMS` (arena/early_modern_forms.py) is its output, shipped
so that scoring needs no modern word list. Reproduce it (docs/arena.md, "Diction"):

    pip install --target /tmp/wf wordfreq==3.1.1
    PYTHONPATH=/tmp/wf python -c "from wordfreq import zipf_frequency as z, tokenize as t; \\
      from dramatis.arena.early_modern import derive_forms, modern_zipf; \\
      print(derive_forms(modern_zipf(z, t)))"
"""

from __future__ import annotations

import math
from collections.abc import Callable

from dramatis.arena.canon import Canon, bare, canon

MIN_COUNT = 5  # occurrences in the plays' speeches
MIN_PLAYS = 3  # ... spread over at least this many plays (not one play's topic)
MIN_GAP = 2.0  # Zipf units: at least 100x more frequent in the plays than in modern English
MAX_MODERN = 4.3  # Zipf: under 20 per million words of modern English
APHETIC = ("tis", "twas", "twere", "twill", "twould", "gainst", "twixt", "tween")


def zipf(count: int, total: int) -> float:
    """Zipf frequency: log10 of occurrences per billion words (0 when none).

    zipf(1, 1_000_000) -> 3.0
    """
    return math.log10(count * 1e9 / total) if count and total else 0.0


def modern_zipf(
    frequency: Callable[[str, str], float], tokenize: Callable[[str, str], list[str]]
) -> Callable[[str], float]:
    """A modern-English Zipf lookup from wordfreq's `zipf_frequency` and `tokenize`.

    A form the modern tokenizer splits into pieces ("o'er" -> "o", "er") is a spelling
    modern English does not write: Zipf 0.
    """

    def lookup(form: str) -> float:
        pieces = tokenize(form, "en")
        return frequency(form, "en") if pieces == [bare(form)] or pieces == [form] else 0.0

    return lookup


def derive_forms(modern: Callable[[str], float], plays: Canon | None = None) -> list[str]:
    """The plays' forms that pass every threshold above, sorted; names left out.

    With thou at 5,260 of 805k words (Zipf 6.8) against 4.2 in modern English, "thou"
    passes; "lord" (6.6 against 5.1) does not.
    """
    plays = plays or canon()
    total = sum(plays.play_words.values())
    kept = []
    for form, count in plays.counts.items():
        if count < MIN_COUNT or len(plays.plays_of[form]) < MIN_PLAYS:
            continue
        if bare(form) in plays.names or plays.capitals[form] > count / 2 or form.endswith("'s"):
            continue  # a name (written with a capital), or the modern possessive / "is"
        here, now = zipf(count, total), modern(form)
        if now <= MAX_MODERN and here - now >= MIN_GAP:
            kept.append(form)
    return sorted(kept)
