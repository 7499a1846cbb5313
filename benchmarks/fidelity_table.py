"""The fidelity table: every finished run of the grid, scored by the arena's metrics.

Run:  python benchmarks/fidelity_table.py [runs/fidelity] [--json out.json]
Rows: configurations (folders of the grid); columns as issue 9 asks. Seconds per turn
come from the transcripts (wall time of each generated turn, on a shared machine).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from dramatis.arena.context import Contexts
from dramatis.arena.scoring import score_dirs

TURNS = 12


def finished_runs(config_dir: Path) -> list[Path]:
    """Run folders holding all their generated turns."""
    done = []
    for run in sorted(p for p in config_dir.iterdir() if (p / "transcript.jsonl").exists()):
        lines = (run / "transcript.jsonl").read_text(encoding="utf-8").splitlines()
        if sum(json.loads(line)["source"] != "play" for line in lines) >= TURNS:
            done.append(run)
    return done


def generated(run: Path) -> list[dict]:
    turns = [json.loads(line) for line in (run / "transcript.jsonl").read_text().splitlines()]
    return [t for t in turns if t["source"] != "play"]


def seconds_per_turn(run: Path) -> float:
    """Mean wall seconds of a run's generated turns."""
    spent = [t["seconds"] for t in generated(run)]
    return sum(spent) / max(1, len(spent))


def words_per_turn(run: Path) -> float:
    """Mean words of a run's generated turns."""
    said = [len(t["text"].split()) for t in generated(run)]
    return sum(said) / max(1, len(said))


def row(values: list[dict], seconds: list[float]) -> dict[str, float]:
    """Means over runs of the columns of the table."""

    def mean(key: str) -> float:
        found = [v[key] for v in values if key in v]
        return sum(found) / max(1, len(found))

    return {
        "runs": len(values),
        "out_of_world": 1 - mean("in_world"),
        "prompt_echo": mean("prompt_echo"),
        "repeated": mean("repetition"),
        "dwelling": mean("dwelling"),  # turns that only turn over the last four's topic
        "fallback": mean("fallback"),
        "impersonation": mean("impersonation"),  # another character's heading or name
        "copying": mean("copying"),
        "attribution": mean("attribution_balanced"),
        "ceiling": mean("attribution_ceiling"),
        "chance": mean("attribution_chance"),
        "lift": mean("attribution_lift"),
        "judge2": mean("attribution2_balanced"),  # the second, independent judge
        "words": mean("words"),  # mean words a generated turn
        "s_per_turn": sum(seconds) / max(1, len(seconds)),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("grid", type=Path, nargs="?", default=Path("runs/fidelity"))
    ap.add_argument("--json", type=Path)
    ap.add_argument("--configs", default="", help="only these configuration folders (a,b)")
    args = ap.parse_args()
    wanted = set(filter(None, args.configs.split(",")))
    table: dict[str, dict] = {}
    contexts = Contexts()  # one judge per cast, shared by every configuration
    for config_dir in sorted(p for p in args.grid.iterdir() if p.is_dir() and p.name[0] != "."):
        runs = finished_runs(config_dir)
        if not runs or (wanted and config_dir.name not in wanted):
            continue
        scored = score_dirs(runs, contexts)["runs"]
        cells: dict[str, list] = defaultdict(list)
        for run, result in zip(runs, scored, strict=True):
            for key in ("all", run.name.split("-s")[0]):
                values = {**result["values"], "words": words_per_turn(run)}
                cells[key].append((values, seconds_per_turn(run)))
        table[config_dir.name] = {
            cell: row([v for v, _ in pairs], [s for _, s in pairs]) for cell, pairs in cells.items()
        }
    cols = ["runs", "out_of_world", "prompt_echo", "repeated", "dwelling", "impersonation"]
    cols += ["fallback", "copying"]
    cols += ["attribution", "ceiling", "chance", "lift", "judge2", "words", "s_per_turn"]
    print("| config | cell | " + " | ".join(cols) + " |")
    print("|" + "---|" * (len(cols) + 2))
    for config, cells in table.items():
        for cell, values in sorted(cells.items(), key=lambda kv: kv[0] != "all"):
            shown = [
                f"{values[c]:.0f}" if c == "runs" else f"{values[c]:.1f}" if c == "words"
                else f"{values[c]:.2f}"
                for c in cols
            ]  # fmt: skip
            print(f"| {config} | {cell} | " + " | ".join(shown) + " |")
    if args.json:
        args.json.write_text(json.dumps(table, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
