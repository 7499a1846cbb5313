"""Misaddress: a turn that speaks to someone by name who is not on stage ("Cassius, stay"
in a scene of Brutus and Viola), or to the speaker itself ("Come, Iago, you are very
good", said by Iago).

Range 0..1, the share of turns that misaddress (lower is better). A name is spoken to
when it starts a sentence followed by , ! or ?, ends a sentence after a comma ("Farewell,
good Cassius."), follows "O", or stands between commas after "good", "my", ... (agents/
addressing.py `spoken_to`); a name in a list ("Casca, Cinna, Cassius.") or inside double
quotes is not. Names are the listed characters of the cast's plays, and each word of a
name of several that is no ordinary word of its play, rank or ordinal ("Brutus", not
"Lady", "Duke" or "Third"). On stage: the cast, the scene's opening speakers and, for a
real speech, everyone its play has on stage. Calibration (tests/test_address.py): 0.95%
of the 30,697 speeches of the 37 plays speak to someone their play has off stage
(apostrophes to the absent and the dead, "O Julius Caesar, thou art mighty yet!", and a
few entrances the text marks late), 0.09% to the speaker.
"""

from __future__ import annotations

from dramatis.agents.addressing import misaddressed, plays_forms
from dramatis.arena.context import Context
from dramatis.arena.metric import Key, Score, rate
from dramatis.arena.runs import Run


class Misaddress:
    """Share of turns speaking to someone off stage, or to the speaker itself."""

    name = "misaddress"
    keys = (Key("misaddress", "lower"),)

    def score(self, run: Run, ctx: Context) -> Score:
        forms = plays_forms(tuple(sorted(ctx.plays)))
        on_stage = {*run.cast, *(t["speaker"] for t in run.opening)}
        found: list[list[str]] = []
        for t in run.scored:
            present = on_stage | set(t.get("present") or ())
            absent, own = misaddressed(t["text"], forms, present, t["speaker"])
            found.append(absent + [f"{f} (self)" for f in own])
        return Score(
            {"misaddress": rate([bool(x) for x in found])},
            per_turn=[float(bool(x)) for x in found],
            extra={"misaddressed": sorted({f for x in found for f in x})},
        )
