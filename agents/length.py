"""How long a character speaks: a floor for each speech, drawn from its real speeches.

A small base model ends most speeches after a clause or two (median 7 words where the
same characters' real speeches have 14). So each turn draws one of the character's real
speeches at random (seeded by the turn) and asks for at least `share` of its length in
tokens before the speech may end (`Sampling.min_tokens`): Horatio stays brief, Macbeth
runs on, and the lengths spread as the real ones do. The speech then ends where the
model ends its sentence, so it comes out somewhat longer than the floor.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence

from dramatis.core.errors import DramatisError


@functools.lru_cache(maxsize=64)
def real_speeches(play: str, name: str) -> tuple[str, ...]:
    """`name`'s speeches in `play` ("hamlet", "Hamlet"); () for a character of no play."""
    from dramatis.personas import load_play

    try:
        speeches = load_play(play).speeches()
    except (DramatisError, OSError, ValueError):
        return ()
    return tuple(s.text for s in speeches if s.speaker == name)


def length_floor(lengths: Sequence[int], rng: random.Random, share: float, cap: int) -> int:
    """`share` of one of `lengths` drawn by `rng`, at most `cap`; 0 with no lengths.

    length_floor([10, 20, 40], random.Random(1), 0.5, 15) -> 5   (drew 10)
    """
    if not lengths or share <= 0:
        return 0
    return max(0, min(cap, int(rng.choice(lengths) * share)))
