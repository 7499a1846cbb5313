"""Punctuation per 100 words: the grid's generated speeches against the cast's real ones.

Run:  python benchmarks/punctuation.py runs/r7 --configs before,default

For each configuration folder of a fidelity grid (benchmarks/fidelity_runs.py), the marks
of every generated speech (commas, dashes, semicolons, colons, question and exclamation
marks, full stops) per 100 words, beside the same figure for all real speeches of the
characters those runs staged. Penalties that push out a used comma show here as too few
commas and too many dashes (docs/fidelity.md, round 7).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dramatis.agents.length import real_speeches
from dramatis.arena.runs import Run, load_run
from dramatis.personas import find_persona

MARKS = (",", "--", ";", ":", "?", "!", ".")


def per_100_words(texts: list[str]) -> dict[str, float]:
    """Each mark's count per 100 words of `texts`.

    per_100_words(["Ay, my lord."]) -> {",": 33.3..., "--": 0.0, ..., ".": 33.3...}
    """
    words = sum(len(t.split()) for t in texts) or 1
    return {m: 100 * sum(t.count(m) for t in texts) / words for m in MARKS}


def runs_of(folder: Path) -> list[Run]:
    """Each finished run under a configuration's folder."""
    return [load_run(path.parent) for path in sorted(folder.glob("*/transcript.jsonl"))]


def real_texts(runs: list[Run]) -> list[str]:
    """Every real speech of every character the runs gave a generated turn."""
    roles = {t["speaker"] for run in runs for t in run.turns if t["source"] != "play"}
    texts: list[str] = []
    for name in sorted(roles):
        persona = find_persona(name)
        texts += real_speeches(persona.play, persona.name)
    return texts


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("grid", type=Path)
    ap.add_argument("--configs", default="")
    args = ap.parse_args()
    names = args.configs.split(",") if args.configs else sorted(p.name for p in args.grid.iterdir())
    print("| speeches | n | " + " | ".join(MARKS) + " |")
    print("|---|---|" + "---|" * len(MARKS))
    real_done = False
    for name in names:
        runs = runs_of(args.grid / name)
        if not runs:
            continue
        if not real_done:
            real = real_texts(runs)
            row = per_100_words(real)
            print(f"| real | {len(real)} | " + " | ".join(f"{row[m]:.1f}" for m in MARKS) + " |")
            real_done = True
        made = [t["text"] for run in runs for t in run.turns if t["source"] == "model"]
        row = per_100_words(made)
        print(f"| {name} | {len(made)} | " + " | ".join(f"{row[m]:.1f}" for m in MARKS) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
