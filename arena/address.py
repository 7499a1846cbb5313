"""Misaddress: a turn that speaks to someone by name who is not on stage ("Cassius, stay"
in a scene of Brutus and Viola), or to the speaker itself ("Come, Iago, you are very
good", said by Iago).

Range 0..1, the share of turns that misaddress (lower is better). A name is spoken to
when it starts a sentence or a line or follows a dash after punctuation, maybe after an
interjection or a title ("No, Cassius,", "O, sir, Horatio,", "Strato.--Cassius,"), followed by , ! or ? or the speech's end; ends a sentence or the speech
after a comma ("Farewell, good Cassius.", "Welcome, Sir Orsino!"); follows "O"; stands
between commas after "good", "my", a title ...; or stands between commas after an
ordinary word or a sentence's first ("Tell me, Cassius, what news?", "Then, Cassius, we
part") (agents/addressing.py `spoken_to`). A name in a list ("Casca, Cinna, Cassius."),
set beside a word for a person ("the greybeard, Gremio,"; "Tell me the truth, Cassius,"
calls him), a letter's signature ("Your son,\nBERTRAM."), a sentence's subject ("Cassius, for his
part, hath fled") or inside quotes (double, or single ones round a reported cry: "he
cried 'O Cassius!'") is not. Names are the listed characters of the cast's plays, those
who only speak under a one-word heading their play uses as a name ("Volumnius"), and
each word of a name of several that is no ordinary word of its play, rank or ordinal
("Brutus", not "Lady", "Duke" or "Third"), as written or in capitals ("O IAGO"). On stage: the cast, the scene's opening
speakers and, for a real speech, everyone its play has on stage. Calibration
(tests/test_address.py): 1.2% of the 30,697 speeches of the 37 plays speak to someone
their play has off stage (apostrophes to the absent and the dead, "O Julius Caesar, thou
art mighty yet!", "Hear it not, Duncan", and a few entrances the text marks late), 0.15%
to the speaker (a soliloquy's "Then, Timon, presently prepare thy grave").
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
