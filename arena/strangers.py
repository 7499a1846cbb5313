"""Strangers: turns that name a person of another play.

A speech at Julius Caesar 1.2 that calls on "Marcius" (Coriolanus), or a Beatrice who asks
after "Signior Peto" (Henry IV), names someone the speaker cannot know: a person of the
canon at home in none of the scene's plays (agents/strangers.py: a character's own name,
not a word those plays' speeches say, and said in fewer than three plays). The
horizon check (arena/horizon.py) reads only the cast's own plays' names, so it never
hears these. A name the scene's setting, its cast, its speakers, its opening lines or a
person's (human) turns said first is the scene's own.

`strangers`: the share of the characters' turns that name one (0..1, lower is better).
Calibration (tests/test_strangers.py, docs/arena.md): each of the 37 plays read by the
rule built without its speeches (what it makes of allusions it has not read): 0.6% of
the 30,697 speeches name a stranger, most of them another spelling of the play's own
people ("Isabel", "Katherine"); the shipped default of round 21 names one in none of 288
turns on the tuning casts and in 6 of 240 (2.5%) on the held-out casts ("Marcius" at
Julius Caesar, "Signior Peto" at Much Ado), each read and a stranger indeed.
"""

from __future__ import annotations

from dramatis.agents.strangers import named_strangers
from dramatis.arena.context import Context
from dramatis.arena.metric import Key, Score, rate
from dramatis.arena.runs import SCORED_SOURCES, Run
from dramatis.personas.corpus import list_plays

_PAGE_SOURCES = ("play", "human")  # turns whose names the scene's speakers may take up


class Strangers:
    """Share of the characters' turns naming a person of a play none of the cast comes
    from (a person's own turns in a chat are part of the page, never counted)."""

    name = "strangers"
    keys = (Key("strangers", "lower"),)

    def score(self, run: Run, ctx: Context) -> Score:
        known = set(list_plays())
        plays = tuple(k for k in ctx.plays if k in known)
        speakers = {t["speaker"] for t in run.turns}
        page = [run.setting, *run.cast, *sorted(speakers)]
        flags: list[list[str] | None] = []  # None: a person's turn
        for turn in run.turns:
            source = turn.get("source", "model")
            if source == "human":
                flags.append(None)
            elif source in SCORED_SOURCES:
                flags.append(named_strangers(turn["text"], plays, "\n".join(page)))
            if source in _PAGE_SOURCES:
                page.append(turn["text"])
        counted = [bool(f) for f in flags if f is not None]
        return Score(
            {"strangers": rate(counted)},
            per_turn=[float(bool(f)) for f in flags],
            extra={"named": sorted({n for f in flags for n in f or ()})},
        )
