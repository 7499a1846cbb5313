"""Impersonation: a turn that writes another character's speech heading ("OPHELIA:",
"Horatio." alone on a line, "MACBETH;" in capitals where a sentence starts, "--IAGO:"
after a dash) or speaks as
them ("I am Ophelia", "I, Ophelia").

Range 0..1, the share of turns that impersonate (lower is better). Names are every
character of the cast's plays plus the cast, the speaker excepted. Checked on known
inputs in tests/test_arena_metrics.py; real speeches of the plays almost never match.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from dramatis.arena.context import Context
from dramatis.arena.metric import Key, Score, rate
from dramatis.arena.runs import Run


def impersonated(text: str, speaker: str, others: Sequence[str]) -> str | None:
    """The other character `text` writes a heading for or speaks as, or None.

    impersonated("Go.\\nOPHELIA: My lord?", "Hamlet", ["Ophelia"]) -> "Ophelia"
    """
    for name in others:
        if name.lower() == speaker.lower():
            continue
        n = re.escape(name)
        heading = rf"(?:^|\n)\s*\**{n}\**\s*:|(?:^|\n)\s*{n}\.\s*(?:\n|$)"
        if re.search(heading, text, re.IGNORECASE) or re.search(rf"\b(?:I am|I'm|I,) {n}\b", text):
            return name
        # "...asleep.\nMACBETH; Oh!": a heading with a semicolon, in capitals only (a
        # vocative "Macbeth; ..." is speech); none in the 30,662 speeches of the plays
        capitals = re.escape(name.upper())
        if re.search(rf"(?:^|\n|[.!?;] )[ \t]*{capitals}[ \t]*;", text):
            return name
        # "Am I mine?\"--RODERIGO: Ay, brave Othello": a heading in capitals after a
        # sentence's end or a dash, inside the line (none in the plays)
        if re.search(rf"(?:[.!?;]['\"]?[ \t]+|--[ \t]*){capitals}[ \t]*:", text):
            return name
        # "...what will you say?\nIAGO. O thou...": the printed plays' own heading, a
        # name in capitals and a period at a line start with the speech after it
        if re.search(rf"\n[ \t]*{capitals}\.[ \t]+\S", text):
            return name
    return None


class Impersonation:
    """Share of turns speaking as another character."""

    name = "impersonation"
    keys = (Key("impersonation", "lower", rating="penalty"),)

    def score(self, run: Run, ctx: Context) -> Score:
        names = [n for n in ctx.names() if len(n) > 2]
        hits = [impersonated(t["text"], t["speaker"], names) for t in run.scored]
        return Score(
            {"impersonation": rate([h is not None for h in hits])},
            per_turn=[float(h is not None) for h in hits],
            extra={"impersonated": [h for h in hits if h]},
        )
