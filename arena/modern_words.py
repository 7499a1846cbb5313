"""Modern words: the share of a run's words that occur nowhere in the 37 plays.

`modern_words`: of the cast's generated word tokens (arena/canon.py: lower case,
elisions kept), the share the plays' speeches never use ("okay", "gonna", "phone");
"'tis" and "tis", "o'er", a possessive of the plays' words ("macbeth's") and every word
of a character's name count as the plays'.
Range 0-1, lower is better. Real lines (baseline turns) are checked against the other
36 plays, so that their figure is not 0 by construction: it says how often Shakespeare
himself uses a word no other play has. Calibration (docs/arena.md): 1.5% of the 37
plays' words are unique to their play: the level of the real rows.
"""

from __future__ import annotations

from collections.abc import Sequence

from dramatis.arena.canon import canon, tokens
from dramatis.arena.context import Context
from dramatis.arena.metric import Key, Score
from dramatis.arena.runs import Run


def outside(text: str, without: str = "") -> list[str]:
    """The tokens of `text` the plays never use (`without`: leave that play out).

    outside("Okay, 'tis my phone.") -> ["okay", "phone"]
    """
    plays = canon()
    return [t for t in tokens(text) if not plays.knows(t, without)]


def left_out(turn: dict, ctx: Context) -> str:
    """The play a turn is checked without: its speaker's, for real lines (baselines)."""
    real = turn.get("source") == "baseline" and turn["speaker"] in ctx.personas
    return ctx.personas[turn["speaker"]].play if real else ""


def modern_figures(turns: Sequence[dict], ctx: Context) -> dict[str, float]:
    """modern_words over turns of the cast ({} when they hold no words)."""
    turns = [t for t in turns if t["speaker"] in ctx.personas]
    total = sum(len(tokens(t["text"])) for t in turns)
    found = sum(len(outside(t["text"], left_out(t, ctx))) for t in turns)
    return {"modern_words": found / total} if total else {}


class ModernWords:
    """Share of generated words that no play uses."""

    name = "modern_words"
    keys = (Key("modern_words", "lower"),)

    def score(self, run: Run, ctx: Context) -> Score:
        turns = run.scored
        found = [outside(t["text"], left_out(t, ctx)) for t in turns]
        per_turn = [
            len(f) / max(1, len(tokens(t["text"]))) for f, t in zip(found, turns, strict=True)
        ]
        words = sorted(
            {
                w
                for f, t in zip(found, turns, strict=True)
                for w in f
                if t["speaker"] in ctx.personas
            }
        )
        return Score(modern_figures(turns, ctx), per_turn=per_turn, extra={"words": words})
