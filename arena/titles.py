"""Titles: turns that call the one they speak to by a title of the other sex.

Benedick, alone with Beatrice: "A good way, sir; I'll go by the horse." Beatrice to him:
"I do beseech you that come in, good madam." A title said to someone ("sir", "my lord",
"signior" / "madam", "lady", "mistress", with up to three words such as "good" before it
and a mark after it; agents/titles.py) that no one on stage but the speaker takes by the
plays says the speaker does not know who is there. Which titles a character takes comes
from the titles the plays say to them where the one spoken to is plain, and the sex their
name or persons-list line gives; Viola, "sir" through most of Twelfth Night, takes both,
and a character no play knows (a card of no play, a person in a chat under a name the
scene's plays do not use) takes any. Those the title may be said to are those the turn
says are present, and whoever spoke in the last four turns (the opening lines' Leonato,
for a while).

`titles`: the share of the characters' turns that say such a title (0..1, lower is
better). Calibration (tests/test_titles.py, docs/arena.md): the 37 plays, each character's
titles read from the odd-numbered scenes and the speeches of the even-numbered ones
checked against those on stage: 8 of 15,436 speeches (0.05%; 2,079 say a title), most of
them a title to someone the text has not yet put on stage; the shipped default of round
22: 1 of 288 turns on the tuning casts ("--maid!", a cry to no one), 5 of 240 (2.1%) on
the held-out casts, four of them in the 60 turns of Beatrice and Benedick.
"""

from __future__ import annotations

from dramatis.agents.titles import hearers, wrong_titles
from dramatis.arena.context import Context
from dramatis.arena.metric import Key, Score, rate
from dramatis.arena.runs import SCORED_SOURCES, Run
from dramatis.personas.corpus import list_plays


class Titles:
    """Share of the characters' turns saying a title no one they may speak to takes (a
    person's own turns in a chat are not counted)."""

    name = "titles"
    keys = (Key("titles", "lower"),)

    def score(self, run: Run, ctx: Context) -> Score:
        known = set(list_plays())
        plays = tuple(k for k in ctx.plays if k in known)
        flags: list[list[str] | None] = []  # None: a person's turn, never counted
        speakers: list[str] = []  # every turn's, the opening lines' too
        for turn in run.turns:
            source = turn.get("source", "model")
            if source == "human":
                flags.append(None)
            elif source in SCORED_SOURCES:
                # as the guard has it: who the turn says is present (the cast), and the
                # last few speakers ("sir" may go to the opening lines' Leonato at first)
                here = hearers(turn.get("present") or run.cast, speakers)
                flags.append(wrong_titles(turn["text"], turn["speaker"], here, plays))
            speakers.append(turn["speaker"])
        return Score(
            {"titles": rate([bool(f) for f in flags if f is not None])},
            per_turn=[float(bool(f)) for f in flags],
            extra={"said": sorted({t for f in flags for t in f or ()})},
        )
