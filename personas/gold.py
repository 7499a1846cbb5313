"""Agreement of a parse with hand-checked gold speech counts (personas/data/gold, shipped)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from dramatis.personas.model import Play

GOLD_FILE = Path(__file__).resolve().parent / "data" / "gold" / "speech_counts.json"


def load_gold(path: Path = GOLD_FILE) -> dict[str, dict[str, int]]:
    """Gold speeches per character for each play in the table; {} when the file is absent."""
    if not path.is_file():
        return {}
    data: dict[str, dict[str, int]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def agreement(parsed: dict[str, int], gold: dict[str, int]) -> float:
    """Share of speeches given to the right character, by per-character counts.

    agreement({"Hamlet": 9, "Horatio": 1}, {"Hamlet": 10}) -> 0.9
    """
    total = max(sum(parsed.values()), sum(gold.values()))
    if total == 0:
        return 1.0
    return sum(min(n, parsed.get(name, 0)) for name, n in gold.items()) / total


def speech_counts(play: Play) -> dict[str, int]:
    """Speeches per speaker of a parsed play."""
    return dict(Counter(s.speaker for s in play.speeches()))


def play_agreement(play: Play) -> float | None:
    """Agreement of a play with the gold table, or None when the play is not in it."""
    gold = load_gold().get(play.key)
    return None if gold is None else agreement(speech_counts(play), gold)


REFERENCE_FILE = GOLD_FILE.parent / "reference_counts.json"


def load_reference(path: Path = REFERENCE_FILE) -> dict[str, dict[str, int]]:
    """Speech counts per character from a public reference edition, per play (see
    personas/data/gold/README.md); {} when the file is absent."""
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    plays: dict[str, dict[str, int]] = data.get("plays", {})
    return plays


def reference_source(path: Path = REFERENCE_FILE) -> str:
    """Where the reference counts come from: the data set's name and address."""
    if not path.is_file():
        return ""
    source = json.loads(path.read_text(encoding="utf-8")).get("source", {})
    return f"{source.get('name', '')} <{source.get('url', '')}>"


def reference_agreement(play: Play) -> float | None:
    """Agreement of a play with the public reference counts, or None when not in them."""
    ref = load_reference().get(play.key)
    return None if ref is None else agreement(speech_counts(play), ref)
