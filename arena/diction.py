"""Early Modern diction: how often a speech uses the plays' own forms (thou, hath, 'tis).

`diction`: Early Modern forms per 100 words of the run's cast turns (0 and up).
`real_diction`: the rate the same turns would have at each speaker's real rate (their
real speeches' rate, weighted by the words each spoke in the run). `diction_ratio`:
diction / real_diction (1 = the cast's own density; 0 = modern English).
Forms: arena/early_modern.py derives them from the 37 plays (frequent there, rare in
modern English), plus the few a modern homograph hides (ADDED) and "art" beside "thou".
Calibration (docs/arena.md): the 37 plays 5.1 per 100 words; the cast's held-out real
lines score a ratio near 1; modern sentences ("I am the king.") score 0.
"""

from __future__ import annotations

from collections.abc import Sequence

from dramatis.arena.canon import bare, tokens
from dramatis.arena.context import Context
from dramatis.arena.early_modern_forms import DERIVED
from dramatis.arena.metric import Key, Score
from dramatis.arena.runs import Run

# Archaic forms whose modern count is swollen by a homograph or a set phrase ("ye olde",
# "yea or nay"): 1.2-1.9 Zipf units above modern English, under the rule's 2.0.
ADDED = ("ye", "yea", "oft", "whence", "thence", "anon")
FORMS = frozenset(DERIVED) | frozenset(ADDED)
NEAR_THOU = 3  # "art" is the verb when "thou" stands within this many words of it


def canonical(token: str) -> str:
    """The form of FORMS a token stands for, else the token without edge apostrophes.

    canonical("tis") -> "'tis"; canonical("'farewell'") -> "farewell"
    """
    word = bare(token)
    for form in (token, f"'{word}", f"{word}'", word):
        if form in FORMS:
            return form
    return word


def count_forms(words: Sequence[str]) -> int:
    """Early Modern forms among tokens; "art" counts only near "thou".

    count_forms(["thou", "art", "a", "knave"]) -> 3; count_forms(["modern", "art"]) -> 0
    """
    found = 0
    for i, word in enumerate(words):
        if word == "art":
            found += "thou" in words[max(0, i - NEAR_THOU) : i + NEAR_THOU + 1]
        else:
            found += canonical(word) in FORMS
    return found


def rate(texts: Sequence[str]) -> float:
    """Forms per 100 words over `texts` (0.0 with no words).

    rate(["Thou art a knave.", "I am the king."]) -> 37.5
    """
    words = [tokens(t) for t in texts]
    total = sum(len(w) for w in words)
    return 100.0 * sum(count_forms(w) for w in words) / total if total else 0.0


def real_rate(ctx: Context, name: str) -> float:
    """A cast member's rate over all their real speeches (cached in the context)."""
    key = ("diction", name)
    if key not in ctx.cache:
        ctx.cache[key] = rate([s.text for s in ctx.real_speeches(name)])
    return float(ctx.cache[key])


def diction_figures(turns: Sequence[dict], ctx: Context) -> dict[str, float]:
    """diction, real_diction and diction_ratio over turns of the cast ({} when none)."""
    turns = [t for t in turns if t["speaker"] in ctx.personas]
    words = {id(t): len(tokens(t["text"])) for t in turns}
    total = sum(words.values())
    if not total:
        return {}
    real = sum(real_rate(ctx, t["speaker"]) * words[id(t)] for t in turns) / total
    out = {"diction": rate([t["text"] for t in turns]), "real_diction": real}
    if real > 0:
        out["diction_ratio"] = out["diction"] / real
    return out


class Diction:
    """Early Modern forms per 100 words, and relative to the cast's real rate."""

    name = "diction"
    keys = (
        Key("diction", "higher", fmt=".1f"),
        Key("real_diction", "", fmt=".1f", cli=False),
        Key("diction_ratio", "higher"),
    )

    def score(self, run: Run, ctx: Context) -> Score:
        turns = [t for t in run.scored if t["speaker"] in ctx.personas]
        return Score(diction_figures(turns, ctx), per_turn=[rate([t["text"]]) for t in run.scored])
