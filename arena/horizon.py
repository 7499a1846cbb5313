"""Knowledge-horizon leaks: a turn that names a character the speaker could not know of
at the scene's point in the play.

A name leaks when it belongs to the cast's plays (or to another cast member's play),
is not on stage in this scene, and the speaker has neither been on stage with that
character nor heard the name in a speech they witnessed before the scene's point, its
opening lines included (the parsed plays carry presence per speech). Without a source scene the horizon is the
speaker's last scene. Only proper names count ("Horatio", not "King").

A turn also leaks when it speaks of a death the speaker cannot know of at that point:
one still to come (its scene is the source scene or later), or one past that they
neither saw nor heard spoken of (arena/death_leaks.py, deaths from the stage directions).

Range 0..1, the share of turns with a leak (lower is better). Checked on known inputs
in tests/test_arena_metrics.py; the death check is calibrated in
tests/test_arena_death_leaks.py (14 of 30,662 real speeches of the 37 plays flagged,
every hand-written leaking line caught). Other events are not detected.
"""

from __future__ import annotations

import re

from dramatis.arena.context import Context
from dramatis.arena.death_leaks import DeathIndex, death_leaks
from dramatis.arena.metric import Key, Score, rate
from dramatis.arena.runs import Run
from dramatis.personas import Play


def scene_start(play: Play, scene_id: str | None) -> int:
    """Index of the first speech of `scene_id` in the play (len(speeches) for None)."""
    speeches = play.speeches()
    if scene_id:
        for s in speeches:
            if s.scene_id == scene_id:
                return s.index
    return len(speeches)


def known_names(play: Play, speaker: str, until: int, names: list[str]) -> set[str]:
    """Names `speaker` met or heard of in the speeches before index `until`."""
    known = {speaker}
    first = {n: n.split()[0] for n in names}
    for s in play.speeches()[:until]:
        if speaker not in s.on_stage:
            continue
        known |= set(s.on_stage)
        capitals = set(_CAPITAL.findall(s.text))  # cheap filter before the exact search
        known |= {n for n in names if first[n] in capitals and _named(s.text, n)}
    return known


_CAPITAL = re.compile(r"\b[A-Z][A-Za-z']+")


def _named(text: str, name: str) -> bool:
    return re.search(rf"\b{re.escape(name)}\b", text) is not None


def _horizon(run: Run, ctx: Context, speaker: str) -> tuple[str, int]:
    """(play key, speech index) of the speaker's horizon."""
    play = ctx.play_of(speaker)
    source = run.source_scene or ""
    if source.split(":")[0] == play.key:
        # The scene's opening lines (at least its first speech) are inside the horizon.
        start = scene_start(play, source.split(":", 1)[1])
        return play.key, start + max(len(run.opening), 1)
    return play.key, len(play.speeches())


class KnowledgeLeak:
    """Share of turns naming someone beyond the speaker's horizon."""

    name = "knowledge_leak"
    keys = (Key("knowledge_leak", "lower", rating="penalty"),)

    def score(self, run: Run, ctx: Context) -> Score:
        names = ctx.proper_names()
        on_stage = set(run.cast) | {t["speaker"] for t in run.opening}
        known, unknown_deaths = {}, {}
        for speaker in ctx.cast:
            key, until = _horizon(run, ctx, speaker)
            cache_key = ("known", speaker, until)
            if cache_key not in ctx.cache:
                ctx.cache[cache_key] = known_names(ctx.plays[key], speaker, until, names)
            known[speaker] = ctx.cache[cache_key]
            unknown_deaths[speaker] = _unknown_deaths(run, ctx, speaker, key, until)
        leaks = []
        for t in run.scored:
            seen = known.get(t["speaker"], set()) | on_stage
            named = [n for n in names if n not in seen and _named(t["text"], n)]
            dead = death_leaks(t["text"], unknown_deaths.get(t["speaker"], []))
            leaks.append(named + [f"death of {n}" for n in dead])
        return Score(
            {"knowledge_leak": rate([bool(x) for x in leaks])},
            per_turn=[float(bool(x)) for x in leaks],
            extra={"leaked": sorted({n for x in leaks for n in x})},
        )


def _unknown_deaths(run: Run, ctx: Context, speaker: str, key: str, until: int) -> list:
    """Deaths `speaker` cannot know of at the horizon (cached per play and horizon)."""
    if ("deaths", key) not in ctx.cache:
        ctx.cache[("deaths", key)] = DeathIndex.build(ctx.plays[key])
    in_scene = (run.source_scene or "").split(":")[0] == key  # the scene's deaths are ahead
    return ctx.cache[("deaths", key)].unknown(speaker, until, same_scene_past=not in_scene)
