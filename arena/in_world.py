"""In-world rate: the share of turns that speak inside the play, not about it.

A turn is out of world when it talks about the play rather than in it: the author, the
audience or reader, the play or scene as a text, a character's "speech" or "lines",
narration ("Ophelia says:", "Hamlet responds", "As Ophelia continues to speak"), or a
reply to the prompt ("Here's the revised speech:", "What does Hamlet say next").

Range 0..1 (1: every turn in world). Calibrated both ways (tests/test_arena_in_world.py):
it flags <= 1% of all real speeches of the 37 plays (false positives) and >= 90% of a
hand-labelled set of out-of-world turns from SmolLM2 transcripts
(tests/data/out_of_world.jsonl).
"""

from __future__ import annotations

import re

from dramatis.arena.context import Context
from dramatis.arena.metric import Key, Score, rate
from dramatis.arena.runs import Run

# Phrases about the work, its makers and its readers; none is common in the plays.
_ABOUT = [
    r"\bshakespeare\w*",
    r"\b(?:the|this|a|an) (?:audience|reader|readers|narrator|playwright|dialogue|monologue|script|protagonist)\b",
    r"\baudience'?s?\b.{0,40}\b(?:hears|response|sees)\b",
    r"\b(?:next|previous|revised|following|final|last) (?:speech|lines|sentence|line|response|reply|part of)\b",
    r"\b(?:her|his|their) (?:speech|response|resolution)\b.{0,40}\b(?:is|was|reveals|becomes|ends)\b",
    r"\bspeaks? (?:in|of|about) (?:a|her|his|the) speech\b",
    r"\bglobe theatre\b",
    r"\b(?:in|of|to) (?:the|this) (?:play|scene|text|passage|excerpt)\b(?! (?:of|to|and|that))",
    r"\bact [ivx]+\b|\bact \d\b|\bscene \d\b|\bprevious scenes?\b",
    r"\b(?:inner|internal) (?:dialogue|monologue|conflict)\b",
    r"\bstage directions?\b",
    r"\bin a moment of\b",
    r"\bconclusion to the scene\b|\bfitting conclusion\b",
    r"\b(?:translated into|a work by|written by)\b",
]
# A reply to the prompt instead of a speech.
_PROMPT = [
    r"^\s*(?:sure|certainly|of course)!",
    r"\bhere(?:'s| is) (?:a|an|the|my) (?:revised|new|possible|short|brief|speech|response|reply|version|continuation|line)\b",
    r"\bsays? next\b",
    r"\bas an ai\b|\blanguage model\b|\bi'm sorry, but\b",
    r"\b(?:with|by) the speech only\b|\breply with the\b",
    r"\bin shakespeare'?s? (?:english|style|language)\b",
    r"\bas follows:",
]
# Narration: a name followed by a verb of speaking, or "As NAME ... speaks". Case-sensitive.
_NOT_NAMES = r"(?!(?:What|Well|He|She|It|Tis|That|This|Who|Which|And|So|As|Thus|Then|Now|Here|There|Yet|But|If|When|Where|How|Who|Whose|Never|Ever|Enough|Much|More|Most|All|Each|One|None|Heaven|Heavens|God|Nature|Rumour|Report|Fame|Time|Love|Truth|Reason|Sir|Madam|Lord|Lady|Say|Sayst|You|They|We|I|Thou|Ye|Who|Men|Man)\b)"
_SPEAK_VERBS = r"(?:says|responds|replies|speaks|continues|exclaims|interjects|retorts|reveals|begins|finishes)"
_NARRATION = [
    rf"\b{_NOT_NAMES}[A-Z][a-z]+(?:'s)? {_SPEAK_VERBS}\b",
    rf"\b{_NOT_NAMES}[A-Z][a-z]+'s (?:response|reply|answer|final words|words are|speech)\b",
    r"\b[Aa]s [A-Z][a-z]+ (?:continues|speaks|begins|finishes|talks)\b",
    r"\b(?:[Ss]he|[Hh]e|[Tt]hey) (?:responds|replies|exclaims|reveals|begins by)\b",
    r"^\s*\(?\s*(?:[A-Z][a-z]+) (?:enters|exits|nods|smiles|sighs)\b",
    rf"\bWhat (?:does|would|will|did) {_NOT_NAMES}[A-Z][a-z]+ (?:say|respond|reply|answer)\b",
    r"\bis summoned\b",
    r"\b[Tt]he only thing (?:she|he|they|you|[A-Z][a-z]+) (?:says|knows|said)\b",
    r"\b(?:when|as) (?:he|she) (?:said|says):",
    r"\b(?:[Hh]e|[Ss]he) (?:says|asks),",
    r"\bwhat do you think (?:he|she) (?:might|will|would)\b",
    r"\b(?:your|his|her) own speech\b",
]
_FLAGS = re.IGNORECASE | re.MULTILINE
PATTERNS = [re.compile(p, _FLAGS) for p in _ABOUT + _PROMPT] + [
    re.compile(p, re.MULTILINE) for p in _NARRATION
]


def out_of_world(text: str) -> str | None:
    """The first out-of-world phrase in `text`, or None when it stays in the play.

    out_of_world("Ophelia says: my lord?") -> "Ophelia says"
    out_of_world("Get thee to a nunnery.") -> None
    """
    for pattern in PATTERNS:
        hit = pattern.search(text)
        if hit:
            return hit.group(0)
    return None


class InWorld:
    """In-world rate (see the module docstring): 1 - share of flagged turns."""

    name = "in_world"
    keys = (Key("in_world", "higher", rating="gain"),)

    def score(self, run: Run, ctx: Context) -> Score:
        hits = [out_of_world(t["text"]) for t in run.scored]
        flags = [h is not None for h in hits]
        return Score(
            {"in_world": 1.0 - rate(flags)},
            per_turn=[0.0 if f else 1.0 for f in flags],
            extra={"out_of_world": [h for h in hits if h]},
        )
