"""Importance of a memory, without asking a model: weighty words and length.

Generative Agents asks the LLM to rate each memory's poignancy from 1 to 10; a 135M
model cannot rate reliably, so this is a cheap stand-in: speeches about death, love,
kin, crowns and betrayal, and longer speeches, count for more than greetings.
"""

from __future__ import annotations

import re

WEIGHTY = frozenset(
    [
        "death",
        "dead",
        "die",
        "dies",
        "died",
        "kill",
        "kill'd",
        "killed",
        "murder",
        "murder'd",
        "slain",
        "slay",
        "blood",
        "bloody",
        "poison",
        "poison'd",
        "grave",
        "ghost",
        "revenge",
        "love",
        "loves",
        "loved",
        "lov'd",
        "marry",
        "married",
        "wed",
        "wedding",
        "father",
        "mother",
        "son",
        "daughter",
        "brother",
        "sister",
        "husband",
        "wife",
        "king",
        "queen",
        "crown",
        "throne",
        "betray",
        "betray'd",
        "traitor",
        "treason",
        "war",
        "sword",
        "fight",
        "mad",
        "madness",
        "heaven",
        "hell",
        "soul",
        "god",
        "heart",
        "weep",
        "tears",
        "grief",
        "woe",
        "sorrow",
        "fear",
        "dagger",
        "wound",
        "banish",
        "banish'd",
        "oath",
        "swear",
    ]
)
_WORD = re.compile(r"[a-z']+")


def importance(text: str) -> float:
    """In [0, 1]: 0.7 for weighty words (three or more fill it), 0.3 for length (80 words).

    importance("Good morrow.") -> 0.0075; importance("My father's ghost in arms!") -> 0.4854
    """
    words = _WORD.findall(text.lower())
    weighty = sum(w.strip("'") in WEIGHTY or w.removesuffix("'s") in WEIGHTY for w in words)
    return round(0.7 * min(1.0, weighty / 3) + 0.3 * min(1.0, len(words) / 80), 4)
