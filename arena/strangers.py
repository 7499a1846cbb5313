"""Strangers: turns that name a person of another play.

A speech at Julius Caesar 1.2 that calls on "Marcius" (Coriolanus), or a Beatrice who asks
after "Signior Peto" (Henry IV), names someone the speaker cannot know: a person of the
canon at home in none of the scene's plays (agents/strangers.py: a listed character's own
name, not a word those plays' speeches say, and said in fewer than four plays). The
horizon check (arena/horizon.py) reads only the cast's own plays' names, so it never
hears these. A name the scene's setting, opening lines or a person's (human) turns said
first is the scene's own.

`strangers`: the share of turns that name one (0..1, lower is better). Calibration
(tests/test_arena_strangers.py, docs/arena.md): no real speech of the 37 plays names a
stranger to its own play, by the rule's making, and a cross-play cast's real lines none
to the pair; the shipped default's scenes of round 21 name one in 0.7% of turns on the
tuning casts and 3.3% on the held-out casts, each read and a stranger indeed.
"""

from __future__ import annotations

from dramatis.agents.strangers import named_strangers
from dramatis.arena.context import Context
from dramatis.arena.metric import Key, Score, rate
from dramatis.arena.runs import SCORED_SOURCES, Run
from dramatis.personas.corpus import list_plays

_PAGE_SOURCES = ("play", "human")  # turns whose names the scene's speakers may take up


class Strangers:
    """Share of turns naming a person of a play none of the cast comes from."""

    name = "strangers"
    keys = (Key("strangers", "lower"),)

    def score(self, run: Run, ctx: Context) -> Score:
        plays = tuple(k for k in ctx.plays if k in list_plays())
        page = [run.setting]
        flags: list[list[str]] = []
        for turn in run.turns:
            source = turn.get("source", "model")
            if source in _PAGE_SOURCES:
                page.append(turn["text"])
            if source in SCORED_SOURCES:
                spoken = source != "human"
                flags.append(
                    named_strangers(turn["text"], plays, "\n".join(page)) if spoken else []
                )
        return Score(
            {"strangers": rate([bool(f) for f in flags])},
            per_turn=[float(bool(f)) for f in flags],
            extra={"named": sorted({n for f in flags for n in f})},
        )
