"""Arena throughput: scoring time ÷ generation time for the smoke suite (target <= 0.05).

Runs the smoke suite into a fresh folder (llama.cpp, DRAMATIS_THREADS threads), then
scores it from scratch in this process: plays parsed, attribution judges trained,
baselines made and scored, exactly as `dramatis arena run` does after generating.

    DRAMATIS_THREADS=1 .venv/bin/python benchmarks/arena_throughput.py [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from dramatis.arena.runner import run_suite
from dramatis.arena.scoring import score_dirs
from dramatis.arena.suite import load_suite
from dramatis.core.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="run folder (default: a temp dir)")
    parser.add_argument("--suite", default="smoke")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="arena-throughput-"))
    settings = Settings.load(home=out / "home").ensure()
    suite = load_suite(args.suite)

    start = time.perf_counter()
    rows = run_suite(suite, out, settings=settings)
    generation = time.perf_counter() - start

    start = time.perf_counter()
    scores = score_dirs([out / "runs"], baselines_dir=out / "baselines")
    scoring = time.perf_counter() - start

    turns = sum(r["turns"] for r in rows)
    result = {
        "suite": suite.name,
        "scenes": len(rows),
        "generated_turns": turns,
        "scored_runs": len(scores["runs"]),
        "generation_s": round(generation, 2),
        "scoring_s": round(scoring, 2),
        "ratio": round(scoring / generation, 4),
        "target": 0.05,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
