"""Relations a play's list of persons states: "Ophelia, daughter to Polonius" is kin,
"Reynaldo, servant to Polonius" is service. The graph's seed (memory/seed.py) and the news
of kin (memory/news.py) both read them here.
"""

from __future__ import annotations

import re

from dramatis.memory.graph import Fact

BEFORE_PLAY = "0.0"
_KIN = "son|daughter|father|mother|brother|sister|wife|husband|nephew|niece|uncle|aunt|widow|cousin|kinsman|kinswoman"
_RELATION = re.compile(
    rf"\b(?i:({_KIN}|friend|servant|page|attendant|steward|lover))s?\s+(?i:to|of)\s+"
    r"(?:the\s+)?(?:(?i:present|former|late|old|young)\s+)?([A-Z][\w']*(?:\s+[A-Z][\w']*)*)"
)
_SERVICE = {"servant", "page", "attendant", "steward"}


def described_relations(name: str, description: str, names: dict[str, str]) -> list[Fact]:
    """Relations a persons-list description states.

    described_relations("Ophelia", "Daughter to Polonius", {"polonius": "Polonius"})
      -> [Fact("Ophelia", "kin", "Polonius", "0.0", detail="daughter to", public=True)]
    """
    facts = []
    for word, target in _RELATION.findall(description):
        other = names.get(target.lower()) or names.get(target.split()[-1].lower())
        if other is None or other == name:
            continue
        word = word.lower()
        relation = "serves" if word in _SERVICE else "friend" if word == "friend" else "kin"
        relation = "loves" if word == "lover" else relation
        detail = f"{word} to" if relation == "kin" else ""
        source = f"persons list: {name}, {description}"
        facts.append(Fact(name, relation, other, BEFORE_PLAY, None, source, [], True, detail))
    return facts
