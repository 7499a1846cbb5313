"""Who a speech names: the text helpers speaker policies read."""

from __future__ import annotations

import re

_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")
VOCATIVE_WORDS = 4  # a name this near a speech's start or end is most often a vocative


def mentions(text: str, name: str) -> bool:
    """Whether `text` names `name` (or its last word: "Lady" alone does not count).

    mentions("Good Horatio, come.", "Horatio") -> True
    """
    forms = {name} | ({name.split()[-1]} if " " in name and not name.startswith("Lady") else set())
    return any(re.search(rf"\b{re.escape(f)}\b", text, re.IGNORECASE) for f in forms)


def calls_on(text: str, name: str) -> bool:
    """Whether `text` names `name` in its first or last few words, as one calls on someone.

    calls_on("Horatio, thou art e'en as just a man", "Horatio") -> True
    calls_on("A goodly king; Horatio knew it, as did we all.", "Horatio") -> False
    """
    words = _WORD.findall(text)
    head = " ".join(words[:VOCATIVE_WORDS])
    tail = " ".join(words[-VOCATIVE_WORDS:])
    return mentions(head, name) or mentions(tail, name)
