"""`make realness`: fit the critic's realness table (agents/data/realness.json, read by
agents/critic.py `Realness`) from the plays' speeches and the speeches the default staged.

Run:  python -m dramatis.training.realness_build RUNS_DIR [--out agents/data/realness.json]
          [--expect-runs N]

RUNS_DIR holds staged scenes (each a folder with transcript.jsonl, at any depth); their
model turns are the "made" class. The "real" class is every speech of the plays but those
the stage voice holds out (training/canon.py HELD_OUT): the arena's held-out grids stage
those plays' casts. The Makefile stages the default afresh on the tuning casts
(benchmarks/fidelity_runs.py, round-4 cells, seeds 10-17, none of the grids' seeds 1-9)
and fits on them; the held-out casts never enter. The table is written whole or not at
all: a failed build leaves the shipped one as it was.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from dramatis.agents.critic import REALNESS_FILE, Realness
from dramatis.core.errors import DramatisError
from dramatis.personas import list_plays, load_play
from dramatis.training.canon import HELD_OUT

LEAST_SPEECHES = 100  # fewer made speeches than this fit a table of noise


def made_speeches(root: Path) -> tuple[list[str], list[str]]:
    """The model turns of every staged scene under `root`, and the scenes' folders
    (relative to `root`, sorted), read in that order."""
    if not root.is_dir():
        raise DramatisError(f"{root}: no such folder; stage the runs first (make realness)")
    texts, runs = [], []
    for path in sorted(root.rglob("transcript.jsonl")):
        runs.append(str(path.parent.relative_to(root)))
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as err:
            raise DramatisError(f"{path}: cannot be read ({err}); stage that scene again") from None
        for n, line in enumerate(lines, 1):
            try:
                turn = json.loads(line) if line.strip() else {}
            except json.JSONDecodeError:
                turn = None
            if not isinstance(turn, dict):
                raise DramatisError(
                    f"{path}:{n}: not a turn (a JSON object); stage that scene again"
                )
            if turn.get("source") == "model" and isinstance(turn.get("text"), str) and turn["text"]:
                texts.append(turn["text"])
    return texts, runs


def build(root: Path, expect_runs: int = 0) -> tuple[Realness, dict]:
    made, runs = made_speeches(root)
    if expect_runs and len(runs) != expect_runs:
        raise DramatisError(
            f"{root}: {len(runs)} staged scenes, {expect_runs} expected; stage the missing ones "
            "(fidelity_runs.py resumes) before fitting"
        )
    if len(made) < LEAST_SPEECHES:
        raise DramatisError(
            f"{root}: {len(made)} model speeches, at least {LEAST_SPEECHES} needed; stage more scenes"
        )
    plays = [key for key in list_plays() if key not in HELD_OUT]
    real = [s.text for key in plays for s in load_play(key).speeches()]
    manifest = {
        "made_from": str(root),
        "runs": runs,
        "made_speeches": len(made),
        "real_speeches": len(real),
        "plays": len(plays),
        "plays_left_out": sorted(HELD_OUT),
    }
    return Realness.fit(real, made), manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("runs", type=Path)
    parser.add_argument("--out", type=Path, default=REALNESS_FILE)
    parser.add_argument("--expect-runs", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        table, manifest = build(args.runs, args.expect_runs)
        part = args.out.with_name(args.out.name + ".part")
        part.write_text(table.to_json(manifest), encoding="utf-8")
        os.replace(part, args.out)
    except DramatisError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(
            f"error: {args.out}: cannot be written ({err.strerror}); pick another --out",
            file=sys.stderr,
        )
        return 2
    print(
        f"{args.out}: {manifest['made_speeches']} made and {manifest['real_speeches']} real speeches"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
