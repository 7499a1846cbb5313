"""`make realness`: fit the critic's realness table (agents/data/realness.json, read by
agents/critic.py `Realness`) from the plays' speeches and the speeches the default staged.

Run:  python -m dramatis.agents.realness_build RUNS_DIR [--out agents/data/realness.json]

RUNS_DIR holds staged scenes (each a folder with transcript.jsonl and scene.json, at any
depth); their model turns are the "made" class, every speech of the plays the "real" one.
The Makefile stages the default on the tuning casts (benchmarks/fidelity_runs.py,
round-4 cells, seeds 10-17) and fits on them: casts held out from tuning never enter.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from dramatis.agents.critic import REALNESS_FILE, Realness
from dramatis.core.errors import DramatisError
from dramatis.personas import list_plays, load_play


def made_speeches(root: Path) -> tuple[list[str], list[str]]:
    """The model turns of every staged scene under `root`, and the scenes' folders
    (relative to `root`, sorted), read in that order."""
    texts, runs = [], []
    for path in sorted(root.rglob("transcript.jsonl")):
        runs.append(str(path.parent.relative_to(root)))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            try:
                turn = json.loads(line) if line.strip() else {}
            except json.JSONDecodeError:
                raise DramatisError(
                    f"{path}:{n}: not a JSON line; stage that scene again"
                ) from None
            if turn.get("source") == "model" and turn.get("text"):
                texts.append(str(turn["text"]))
    return texts, runs


def build(root: Path) -> tuple[Realness, dict]:
    made, runs = made_speeches(root)
    if not made:
        raise DramatisError(f"{root}: no staged scenes with model turns; stage some first")
    real = [s.text for key in list_plays() for s in load_play(key).speeches()]
    manifest = {
        "made_from": "the default `dramatis stage` on the tuning casts (benchmarks/fidelity_runs.py --casts round4)",
        "runs": runs,
        "made_speeches": len(made),
        "real_speeches": len(real),
        "plays": len(list_plays()),
    }
    return Realness.fit(real, made), manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path)
    parser.add_argument("--out", type=Path, default=REALNESS_FILE)
    args = parser.parse_args(argv)
    try:
        table, manifest = build(args.runs)
    except DramatisError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    args.out.write_text(table.to_json(manifest), encoding="utf-8")
    print(
        f"{args.out}: {manifest['made_speeches']} made and {manifest['real_speeches']} real speeches"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
