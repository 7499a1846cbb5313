"""The fidelity table: every finished run of the grid, scored by the arena's metrics.

Run:  python benchmarks/fidelity_table.py [runs/fidelity] [--json out.json] [--configs a,b]
          [--spread]
Rows: configurations (folders of the grid) by cell, and a "real" row per cell: the
cast's held-out real speeches in the runs' own speaker order (arena.baselines.real_lines,
from the first configuration's runs), scored by the same code. Columns: the per-run
metrics averaged over runs, and the voice figures pooled over a cell's runs
(arena/voice.py: the discriminator and the group judge need more than 12 turns); the
"all" cell averages the cells. "–": undefined (lift where the ceiling is too near
chance). Seconds per turn come from the transcripts (wall time, shared machine), and so
do draws, the candidates drawn a turn (the kept one among them; a fallback turn's all
refused).
`--spread` adds a 90% interval for the key figures of each configuration's "all" row
(the jackknife over seeds): two configurations whose intervals overlap widely have not
been told apart by the grid.
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from dramatis.arena.baselines import real_lines
from dramatis.arena.context import Contexts
from dramatis.arena.runs import Run, load_run
from dramatis.arena.scoring import score_run
from dramatis.arena.voice import pooled_voice

TURNS = 12
MEANS = {  # column -> per-run key (mean over runs)
    "out_of_world": "in_world",  # shown as 1 - in_world
    "prompt_echo": "prompt_echo",
    "repeated": "repetition",
    "dwelling": "dwelling",  # turns that only turn over the last four's topic
    "impersonation": "impersonation",  # another character's heading or name
    "misaddress": "misaddress",  # speaks to someone off stage, or to the speaker itself
    "strangers": "strangers",  # names a person of another play
    "titles": "titles",  # calls the one spoken to by a title of the other sex
    "fallback": "fallback",
    "copying": "copying",
    "later_spans": "later_spans",  # 8-word spans of a later scene of the play (seeded runs)
    "attribution": "attribution_balanced",
    "ceiling": "attribution_ceiling",
    "chance": "attribution_chance",
    "lift": "attribution_lift",
    "judge2": "attribution2_balanced",  # the second, independent judge
}
POOLED = {  # column -> pooled key (arena/voice.py, over a cell's runs)
    "diction": "diction",  # Early Modern forms per 100 words
    "diction_ratio": "diction_ratio",  # ... over the cast's real rate
    "modern_words": "modern_words",  # share of words no play uses
    "modern_reg": "modern_register",  # share of speeches that read as present-day English
    "words_med": "words_median",
    "real_med": "real_words_median",
    "length_gap": "length_gap",
    "self_rep": "self_repeats_ratio",  # words said again within a speech, over the real share
    "disc_auc": "discriminator_auc",  # 0.5: generated and real lines indistinguishable
    "length_auc": "length_auc",
    "judge3": "attribution3_balanced",  # the group judge
    "ceiling3": "attribution3_ceiling",
    "lift3": "attribution3_lift",
}
COLUMNS = ["runs", *MEANS, "words", *POOLED, "s_per_turn", "draws"]
ONE_DECIMAL = {"words", "diction", "words_med", "real_med", "draws"}


def finished_runs(config_dir: Path) -> list[Path]:
    """Run folders holding all their generated turns."""
    done = []
    for run in sorted(p for p in config_dir.iterdir() if (p / "transcript.jsonl").exists()):
        lines = (run / "transcript.jsonl").read_text(encoding="utf-8").splitlines()
        if sum(json.loads(line)["source"] != "play" for line in lines) >= TURNS:
            done.append(run)
    return done


def mean(values: Sequence[float]) -> float | None:
    """The mean, or None for no values (shown as "–")."""
    return sum(values) / len(values) if values else None


def cell_row(runs: Sequence[Run], contexts: Contexts) -> dict[str, float | None]:
    """The table's columns for the runs of one cell (one cast)."""
    ctx = contexts.get(runs[0].roles)
    values = [score_run(run, contexts)["values"] for run in runs]
    out: dict[str, float | None] = {"runs": float(len(runs))}
    for column, key in MEANS.items():
        out[column] = mean([v[key] for v in values if key in v])
    if out["out_of_world"] is not None:
        out["out_of_world"] = 1.0 - out["out_of_world"]
    said = [len(t["text"].split()) for run in runs for t in run.scored]
    out["words"] = mean([float(n) for n in said])  # mean words a generated turn
    voice = pooled_voice(runs, ctx)
    out.update({column: voice.get(key) for column, key in POOLED.items()})
    spent = [float(t.get("seconds", 0.0)) for run in runs for t in run.scored]
    out["s_per_turn"] = mean(spent)
    # candidates drawn a turn, kept or refused (transcripts made before turns recorded
    # it have none: "–")
    drawn = [float(t["attempts"]) for run in runs for t in run.scored if "attempts" in t]
    out["draws"] = mean(drawn)
    return out


def all_row(cells: dict[str, dict[str, float | None]]) -> dict[str, float | None]:
    """The mean of the cells' figures (runs summed; an undefined figure left out)."""
    out: dict[str, float | None] = {}
    for column in COLUMNS:
        found = [c[column] for c in cells.values() if c.get(column) is not None]
        out[column] = sum(found) if column == "runs" else mean(found)  # type: ignore[arg-type]
    return out


SPREAD = (
    "diction_ratio",
    "disc_auc",
    "lift",
    "lift3",
    "copying",
    "dwelling",
    "misaddress",
    "strangers",
    "titles",
    "modern_words",
    "modern_reg",
    "words_med",
    "self_rep",
)


def spread(runs: dict[str, list[Run]], contexts: Contexts) -> dict[str, float]:
    """The jackknife standard error of the "all" row's SPREAD columns over seeds: the row
    computed again with each seed's runs left out of every cell, k seeds giving
    sqrt((k - 1) / k * sum((x_i - mean)^2)). Leaving seeds out rather than drawing runs
    with replacement keeps every run once: a run drawn twice sits in one fold of the
    discriminator twice over and moves its AUC (measured: +0.1)."""
    seeds = sorted({str(r.spec.get("seed")) for pool in runs.values() for r in pool})
    if len(seeds) < 3:
        return {}
    found: dict[str, list[float]] = defaultdict(list)
    for seed in seeds:
        cells = {}
        for cell, pool in runs.items():
            kept = [r for r in pool if str(r.spec.get("seed")) != seed]
            if kept:
                cells[cell] = cell_row(kept, contexts)
        row = all_row(cells)
        for column in SPREAD:
            if row.get(column) is not None:
                found[column].append(float(row[column]))  # type: ignore[arg-type]
    k = len(seeds)
    return {
        column: math.sqrt((k - 1) / k * sum((x - sum(v) / len(v)) ** 2 for x in v))
        for column, v in found.items()
        if len(v) == k
    }


def by_cell(folders: Sequence[Path]) -> dict[str, list[Run]]:
    """Runs grouped by cell (the folder name before "-s": "2same-s3" -> "2same")."""
    cells: dict[str, list[Run]] = defaultdict(list)
    for folder in folders:
        cells[folder.name.split("-s")[0]].append(load_run(folder))
    return dict(sorted(cells.items()))


def shown(column: str, value: float | None) -> str:
    if value is None:
        return "–"
    if column == "runs":
        return f"{value:.0f}"
    return f"{value:.1f}" if column in ONE_DECIMAL else f"{value:.2f}"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("grid", type=Path, nargs="?", default=Path("runs/fidelity"))
    ap.add_argument("--json", type=Path)
    ap.add_argument("--configs", default="", help="only these configuration folders (a,b)")
    ap.add_argument("--no-real", action="store_true", help="leave out the real-lines rows")
    ap.add_argument(
        "--spread",
        action="store_true",
        help="also print each configuration's key figures with a 90%% interval (the "
        "jackknife over seeds: the table again with each seed left out; 3+ seeds)",
    )
    args = ap.parse_args()
    wanted = set(filter(None, args.configs.split(",")))
    contexts = Contexts()  # one judge per cast, shared by every configuration
    table: dict[str, dict[str, dict]] = {}
    real: dict[str, list[Run]] = {}
    intervals: dict[str, dict[str, float]] = {}
    for config_dir in sorted(p for p in args.grid.iterdir() if p.is_dir() and p.name[0] != "."):
        folders = finished_runs(config_dir)
        if not folders or (wanted and config_dir.name not in wanted):
            continue
        grouped = by_cell(folders)
        cells = {cell: cell_row(runs, contexts) for cell, runs in grouped.items()}
        table[config_dir.name] = {"all": all_row(cells), **cells}
        if args.spread:
            intervals[config_dir.name] = spread(grouped, contexts)
        for cell, runs in grouped.items():
            real.setdefault(
                cell, [real_lines(r, contexts.get(r.roles), i) for i, r in enumerate(runs)]
            )
    if real and not args.no_real:
        cells = {cell: cell_row(runs, contexts) for cell, runs in real.items()}
        table = {"real": {"all": all_row(cells), **cells}, **table}
    print("| config | cell | " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * (len(COLUMNS) + 2))
    for config, cells in table.items():
        for cell, values in cells.items():
            print(
                f"| {config} | {cell} | " + " | ".join(shown(c, values[c]) for c in COLUMNS) + " |"
            )
    if intervals:
        print("\n90% intervals (figure ± 1.645 jackknife standard errors over seeds):\n")
        print("| config | " + " | ".join(SPREAD) + " |")
        print("|" + "---|" * (len(SPREAD) + 1))
        for config, found in intervals.items():
            row = table[config]["all"]
            print(
                f"| {config} | "
                + " | ".join(
                    f"{shown(c, row[c])} ± {shown(c, 1.645 * found[c])}"
                    if c in found and row[c] is not None
                    else "–"
                    for c in SPREAD
                )
                + " |"
            )
    if args.json:
        out = {**table, "intervals": intervals} if intervals else table
        args.json.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
