"""Impersonation guard: keep only what the speaking character says.

Pure text helpers; the agent applies them to every completion.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# A speech heading at the start of a line: "OPHELIA:", "Lady Macbeth:", "HORATIO." alone.
_HEADING = re.compile(r"^\s*\**([A-Z][A-Za-z' ]{1,30}?)\**\s*[:：]", re.MULTILINE)
_ALONE_HEADING = re.compile(r"^\s*([A-Z][A-Z' ]{1,30})\.\s*$", re.MULTILINE)


def heading_stops(names: Iterable[str]) -> list[str]:
    """Stop sequences that end a completion when another character's heading starts.

    heading_stops(["Ophelia"]) -> ["\\nOPHELIA:", "\\nOphelia:", "OPHELIA:"]
    """
    stops: list[str] = []
    for name in names:
        for form in (f"\n{name.upper()}:", f"\n{name}:", f"{name.upper()}:"):
            if form not in stops:
                stops.append(form)
    return stops


def strip_own_heading(text: str, speaker: str) -> str:
    """Drop a leading "HAMLET:" (or "Hamlet:", "**Hamlet**:") the model wrote for itself.

    strip_own_heading("Hamlet: To be.", "Hamlet") -> "To be."
    strip_own_heading("Hamlet,\nTo be.", "Hamlet") -> "To be."
    """
    pattern = re.compile(
        rf"^\s*\**\s*{re.escape(speaker)}\s*\**\s*([:.]|,\s*$|,\s*\n)\s*", re.IGNORECASE
    )
    return pattern.sub("", text, count=1)


def cut_at_other_speaker(text: str, speaker: str, others: Iterable[str]) -> str:
    """Cut `text` where it starts speaking as someone else.

    cut_at_other_speaker("Go.\\nOPHELIA: My lord?", "Hamlet", ["Ophelia"]) -> "Go."
    """
    cut = len(text)
    for name in others:
        hit = re.search(rf"(^|\n|\s){re.escape(name)}\s*[:：]", text, re.IGNORECASE)
        if hit:
            cut = min(cut, hit.start())
    for pattern in (_HEADING, _ALONE_HEADING):
        for hit in pattern.finditer(text):
            if hit.group(1).strip().lower() != speaker.lower() and hit.start() > 0:
                cut = min(cut, hit.start())
                break
    return text[:cut]


def clean_utterance(text: str, speaker: str, others: Iterable[str]) -> str:
    """The speaker's own words: no heading, no lines for others, tidy whitespace.

    clean_utterance("HAMLET: Ay, madam.\\nOPHELIA: Good my lord", "Hamlet", ["Ophelia"]) -> "Ay, madam."
    """
    text = strip_own_heading(text, speaker)
    text = cut_at_other_speaker(text, speaker, others)
    text = re.sub(r"\[[^\]]*\]?|\([^)]*\)?|\*[^*]*\*", "", text)  # directions, asides
    lines = [line.strip() for line in text.strip().splitlines()]
    text = "\n".join(line for line in lines if line)
    text = strip_own_heading(text.strip().strip('"').strip(), speaker)  # "Hamlet,\n(...)"
    return text if re.search(r"[A-Za-z]", text) else ""


def echoes(text: str, earlier: Iterable[str], span: int = 40) -> bool:
    """Whether `text` opens by copying an earlier speech (small models parrot).

    echoes("I am glad to speak of you and your lineage.", ["I am glad to speak of you and your lineage, sir."]) -> True
    """
    head = " ".join(text.split())[:span].lower()
    return len(head) >= span // 2 and any(head in " ".join(e.split()).lower() for e in earlier)


def trim_to_sentence(text: str) -> str:
    """Drop a trailing fragment cut off by the token limit, when a sentence ended earlier.

    trim_to_sentence("I will. And yet the") -> "I will."
    """
    ends = [m.end() for m in re.finditer(r"[.!?;](?=\s|$)['\"]?", text)]
    return text[: ends[-1]].rstrip() if ends and ends[-1] > len(text) // 3 else text
