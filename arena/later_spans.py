"""Recitation of later scenes: a turn that says an 8-word span of its play from a scene
after the scene's point in the story.

A voice trained on the plays can recite them. Saying a line of the play is copying (arena
/copying.py); saying a line from a scene still to come is also knowing the future. For a
run seeded from a scene (`--scene hamlet:1.2`), every speech of the speaker's play from
a later scene is indexed by its normalised 8-word spans; a turn that holds one of them
recites a later scene. Runs without a source scene have no point in the story: no figure.

`later_spans`: share of turns that do (0..1, lower is better). Calibrated on known
inputs (tests/test_arena_voice_spans.py): a later scene's line is caught, an earlier
scene's is not, and 8 words is long enough that the plays' stock phrases ("I do beseech
your lordship", 5 words) never match by chance.
"""

from __future__ import annotations

from collections.abc import Iterable

from dramatis.arena.context import Context
from dramatis.arena.metric import Key, Score, rate
from dramatis.arena.runs import Run
from dramatis.arena.words import ngrams, words

SPAN = 8


def scene_key(scene_id: str) -> tuple[int, int]:
    """scene_key("3.1") -> (3, 1)"""
    act, _, number = scene_id.partition(".")
    return int(act), int(number or 0)


def later_grams(play, after: str) -> set[tuple[str, ...]]:
    """Every 8-word span of the speeches in scenes after `after` ("1.2") of `play`."""
    point = scene_key(after)
    found: set[tuple[str, ...]] = set()
    for speech in play.speeches():
        if scene_key(speech.scene_id) > point:
            found.update(ngrams(words(speech.text), SPAN))
    return found


def recites(text: str, grams: Iterable[tuple[str, ...]] | set) -> bool:
    """Whether `text` holds one of `grams` (8-word spans)."""
    return any(g in grams for g in ngrams(words(text), SPAN))


class LaterSpans:
    """Share of turns that say a span of a later scene of the speaker's play."""

    name = "later_spans"
    keys = (Key("later_spans", "lower"),)

    def score(self, run: Run, ctx: Context) -> Score:
        if not run.source_scene or ":" not in run.source_scene:
            return Score({})
        play_key, scene_id = run.source_scene.split(":", 1)
        cache: dict[str, set[tuple[str, ...]]] = {}
        flags = []
        for turn in run.scored:
            persona = ctx.personas.get(turn["speaker"])
            if persona is None:
                flags.append(False)
                continue
            if persona.play not in cache:  # another play's character has no point in its
                after = scene_id if persona.play == play_key else "99.99"  # play: none later
                cache[persona.play] = later_grams(ctx.plays[persona.play], after)
            flags.append(recites(turn["text"], cache[persona.play]))
        return Score({"later_spans": rate(flags)}, per_turn=[float(f) for f in flags])
