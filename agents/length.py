"""How long a character speaks: a floor and a limit for each speech, drawn from its
real speeches.

A small base model ends most speeches after a clause or two (median 7 words where the
same characters' real speeches have 14); the stage voice, which writes the printed
plays' long dash-joined sentences, runs to the token limit instead (median 24). So each
turn draws one of the character's real speeches at random (seeded by the turn), asks for
at least `share` of its length in tokens before the speech may end
(`Sampling.min_tokens`), and, with a `ceiling`, sets the turn's token limit at that
multiple of it: Horatio stays brief, Macbeth runs on, and the lengths spread as the real
ones do. A speech the limit cuts runs on to its sentence's end or is trimmed to its
whole sentences (agents/character.py), so it never ends inside a clause.
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


# A limit never below this many tokens: a drawn "My lord?" leaves room for a sentence.
LEAST_LIMIT = 12


def speech_bounds(
    lengths: Sequence[int], rng: random.Random, share: float, ceiling: float, cap: int, limit: int
) -> tuple[int, int]:
    """(floor, token limit) of one speech from one of `lengths` drawn by `rng`: `share` of
    it (at most `cap`), and `ceiling` times it (at least LEAST_LIMIT and 8 past the floor,
    at most `limit`). With no lengths, or a share or ceiling of 0: no floor, `limit`.

    speech_bounds([10, 20, 40], random.Random(1), 0.5, 1.5, 15, 60) -> (5, 15)  (drew 10)
    """
    if not lengths or (share <= 0 and ceiling <= 0):
        return 0, limit
    drawn = rng.choice(lengths)
    floor = max(0, min(cap, int(drawn * share))) if share > 0 else 0
    if ceiling <= 0:
        return floor, limit
    return floor, min(limit, max(LEAST_LIMIT, floor + 8, round(drawn * ceiling)))
