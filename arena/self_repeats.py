"""Self-repeats: how often a speech says one of its own words again, against the plays.

A speech of the plays says "the", "I", "you" and "and" again as often as its sense needs;
a sampler's repeat and presence penalties push a word out after its first use, and the
speech reads thin in a way a reader hears but no word list shows.

`self_repeats`: words that repeat an earlier word of the same speech, per word of the run's
cast turns. `real_self_repeats`: the share the same turns would have at their speakers'
real shares for speeches of their length (LENGTH_BANDS; a speaker with fewer than
LEAST_SPEECHES real speeches in a band takes the cast's pooled real speeches of it).
`self_repeats_ratio`: self_repeats / real_self_repeats (1 = the cast's own habit).
The real shares come from the scenes the attribution judge trains on, so the real-line
baselines (its held-out speeches) are scored out of sample. Calibration (docs/arena.md):
the cast's held-out real lines score near 1; a modern sentence of distinct words, 0.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from dramatis.arena.canon import tokens
from dramatis.arena.context import Context
from dramatis.arena.discriminator import critic_scenes

# Lower bounds of the length bands (words): a long speech repeats more of its words (over
# the plays, 0.18 of a 40-59-word speech's words, 0.24 at 60-99, 0.34 at 100 and more).
LENGTH_BANDS = (1, 4, 8, 12, 16, 24, 40, 60, 100)
LEAST_SPEECHES = 10


def repeats(words: Sequence[str]) -> int:
    """Words that repeat an earlier word of the same speech.

    repeats(["the", "king", "and", "the", "queen"]) -> 1
    """
    return len(words) - len(set(words))


def band(n: int) -> int:
    """The index of the length band of a speech of `n` words (n >= 1)."""
    return bisect.bisect_right(LENGTH_BANDS, n) - 1


def _shares(texts: Sequence[str]) -> dict[int, tuple[float, int]]:
    """Per length band: the repeated words per word of `texts`, and how many speeches."""
    said: dict[int, list[int]] = {}
    for text in texts:
        words = tokens(text)
        if words:
            counts = said.setdefault(band(len(words)), [0, 0, 0])
            counts[0] += repeats(words)
            counts[1] += len(words)
            counts[2] += 1
    return {b: (r / w, n) for b, (r, w, n) in said.items()}


def reference(ctx: Context, name: str) -> list[str]:
    """A cast member's real speeches outside the scenes the critics learn from, which are
    the attribution judge's test scenes (all of them when no scene is held out): the
    real-line baselines, drawn from those scenes, stay out of sample, and the reference
    is the discriminator's own real pool."""
    skip = critic_scenes(ctx)
    play = ctx.personas[name].play
    speeches = ctx.real_speeches(name)
    return [s.text for s in speeches if (play, s.scene_id) not in skip] or [
        s.text for s in speeches
    ]


def real_shares(ctx: Context, name: str) -> dict[int, tuple[float, int]]:
    """A cast member's real share per length band (cached in the context)."""
    key = ("self_repeats", name)
    if key not in ctx.cache:
        ctx.cache[key] = _shares(reference(ctx, name))
    return ctx.cache[key]  # type: ignore[no-any-return]


def cast_shares(ctx: Context) -> dict[int, tuple[float, int]]:
    """The cast's pooled real share per length band (cached in the context)."""
    key = ("self_repeats", "")
    if key not in ctx.cache:
        ctx.cache[key] = _shares([t for name in ctx.personas for t in reference(ctx, name)])
    return ctx.cache[key]  # type: ignore[no-any-return]


def expected_share(ctx: Context, name: str, n: int) -> float | None:
    """The real share of repeated words for `name`'s speeches of `n` words, or None when
    neither they nor the cast have a real speech of that band."""
    own = real_shares(ctx, name).get(band(n))
    if own is not None and own[1] >= LEAST_SPEECHES:
        return own[0]
    pooled = cast_shares(ctx).get(band(n))
    return pooled[0] if pooled is not None else None


def self_repeat_figures(turns: Sequence[dict], ctx: Context) -> dict[str, float]:
    """self_repeats, real_self_repeats and self_repeats_ratio over turns of the cast ({}
    when no turn has words and a real band to compare with)."""
    said = expected = words = 0.0
    for turn in turns:
        if turn["speaker"] not in ctx.personas:
            continue
        found = tokens(turn["text"])
        share = expected_share(ctx, turn["speaker"], len(found)) if found else None
        if share is None:
            continue
        said += repeats(found)
        expected += share * len(found)
        words += len(found)
    if not words:
        return {}
    out = {"self_repeats": said / words, "real_self_repeats": expected / words}
    if expected > 0:
        out["self_repeats_ratio"] = said / expected
    return out
