"""Every speech where dramatis and the public reference disagree, speech by speech.

Run: python tests/data/gold/reference_diff.py FOLDER > tests/data/gold/edition_differences.json

FOLDER holds the reference's per-play JSON files (see reference_counts.py). Within each act,
the reference's speeches and ours are aligned by their words (a longest common subsequence
weighted by the share of words two speeches have in common, at least 0.2), so a speech the
two editions give to different people still pairs with its twin. What is left is listed:

- "other heading": the same speech, and our text prints a heading for another person than
  the reference names (1 Henry IV 2.4: POINTZ. where the reference has Peto);
- "other label": the same speech and the same people, named otherwise (our CITIZENS.
  against the reference's "All", FIRST CITIZEN. in Julius Caesar 1.1 against "First
  Commoner", FIRST TRAVELLER. and SECOND TRAVELLER. against one "Travellers");
- "reference only" / "ours only": a speech one text splits off, merges or lacks.

Each row carries our heading as printed and the first line on both sides, to be read by
hand; tests/test_gold_reference_differences.py checks the rows against the parse. Unlike
reference_counts.py this file imports dramatis: it compares the two.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from dramatis.personas import load_play

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference_counts as rc  # noqa: E402  (the reference's names, from the file beside)

WORD = re.compile(r"[a-z]+")
LEAST = 0.2  # below this share of common words two speeches are not the same speech

# Same people, another label: (the reference's name, ours). Read by hand, one by one.
LABELS = {
    ("Travellers", "First Traveller"),
    ("Travellers", "Second Traveller"),
    ("Thieves", "Sir John Falstaff and Gadshill and others"),
    ("Gentleman", "First Gentleman"),
    ("Citizens", "All"),
    ("All", "All Three"),
    ("First Commoner", "First Citizen"),
    ("Second Commoner", "Second Citizen"),
    ("All", "Citizens"),
    ("Several Citizens", "Citizens"),
    ("Attendants", "All"),
    ("All", "Soldiers"),
    ("Egyptian", "Messenger"),
    ("Aedile", "Aediles"),
    ("A Patrician", "First Patrician"),
    ("All Citizens", "All Three Citizens"),
    ("All The Lords", "Lords"),
    ("All Conspirators", "Conspirators"),
    ("All The People", "Citizens"),
    ("Second Messenger", "Messenger"),
}


def first_line(text: str) -> str:
    return next((line.strip() for line in text.split("\n") if line.strip()), "")


def reference_speeches(folder: Path, play: str) -> list[dict[str, str]]:
    """The reference's speeches in order, with act, scene, dramatis name and text."""
    rows = json.loads((folder / rc.FILES[play]).read_text(encoding="utf-8"))
    out: list[dict[str, str]] = []
    previous = None
    for row in rows:
        speaker, number = str(row.get("speaker") or ""), row.get("speech_number")
        if not speaker or number in ("", None):
            continue
        if (speaker, number) != previous:
            out.append({"speaker": speaker, "text": "", "scene": ""})
        previous = (speaker, number)
        if line := row.get("line_number"):
            out[-1]["text"] += str(row["text_entry"]) + "\n"
            out[-1]["scene"] = out[-1]["scene"] or ".".join(str(line).split(".")[:2])
    named = []
    for speech in out:
        name = rc.NAMES[play].get(speech["speaker"], speech["speaker"])
        if name != rc.SKIP and speech["scene"]:
            named.append({**speech, "name": name})
    return named


def _words(text: str) -> set[str]:
    return set(WORD.findall(text.lower().replace("'", "")))


def _share(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def align(theirs: list[set[str]], ours: list[set[str]]) -> list[tuple[int, int]]:
    """Pairs (i, j) of the same speech, in order, maximising the summed word share."""
    n, m = len(theirs), len(ours)
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            share = _share(theirs[i - 1], ours[j - 1])
            here = max(best[i - 1][j], best[i][j - 1])
            if share >= LEAST:
                here = max(here, best[i - 1][j - 1] + share)
            best[i][j] = here
    pairs, i, j = [], n, m
    while i and j:
        share = _share(theirs[i - 1], ours[j - 1])
        if share >= LEAST and abs(best[i][j] - best[i - 1][j - 1] - share) < 1e-9:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif best[i][j] == best[i - 1][j]:
            i -= 1
        else:
            j -= 1
    return pairs[::-1]


def differences(folder: Path, play: str) -> list[dict[str, str]]:
    """Every disagreement of one play, in play order within each act."""
    reference = reference_speeches(folder, play)
    ours = load_play(play).speeches()
    rows: list[dict[str, str]] = []
    for act in dict.fromkeys(s.act for s in ours):
        theirs = [r for r in reference if r["scene"].split(".")[0] == str(act)]
        mine = [s for s in ours if s.act == act]
        pairs = align([_words(r["text"]) for r in theirs], [_words(s.text) for s in mine])
        for i, j in pairs:
            r, s = theirs[i], mine[j]
            if r["name"] != s.speaker:
                kind = "other label" if (r["name"], s.speaker) in LABELS else "other heading"
                rows.append(_row(kind, s.scene_id, r, s))
        paired_theirs, paired_mine = {i for i, _ in pairs}, {j for _, j in pairs}
        rows += [
            _row("reference only", r["scene"], r, None)
            for i, r in enumerate(theirs)
            if i not in paired_theirs
        ]
        rows += [
            _row("ours only", s.scene_id, None, s)
            for j, s in enumerate(mine)
            if j not in paired_mine
        ]
    return rows


def _row(kind: str, scene: str, r: dict[str, str] | None, s: object) -> dict[str, str]:
    return {
        "kind": kind,
        "scene": scene,
        "reference": r["name"] if r else "",
        "reference_line": first_line(r["text"]) if r else "",
        "heading": getattr(s, "heading", "").strip(),
        "ours": getattr(s, "speaker", ""),
        "our_line": first_line(getattr(s, "text", "")),
    }


def main(folder: Path) -> None:
    plays = {play: differences(folder, play) for play in rc.FILES}
    print(json.dumps({"source": rc.SOURCE, "plays": plays}, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
