"""How far a choice among each turn's candidates can move the voice figures.

Run:  python benchmarks/choice_study.py RUNS_DIR [--seed 0] [--json out.json]

RUNS_DIR holds runs staged with `--set keep_candidates=true` (benchmarks/fidelity_runs.py
config `default-kc`): each turn that best-of-n chose for keeps its acceptable candidates.
For each rule of choice, every such turn's text is replaced by the rule's pick, and each
cell's runs are scored pooled, as the fidelity table scores them (arena/voice.py): the
discriminator's AUC, diction, modern words, the modern register, the median length, the
group judge's lift, and the first judge's lift over the pooled turns. Rules:

- kept: what the scene kept (the style critic, with the guards' preferences);
- first: the first acceptable candidate drawn (no critic);
- random: one at random (seeded);
- realness: the highest `Realness.score` (agents/critic.py);
- register: the candidate the register judge (arena/register.py) reads least as
  present-day English;
- register-veto: the kept one, unless the register judge reads it as present-day
  English (above 0): then the candidate it reads least so;
- oracle: the candidate a discriminator, fitted on the kept turns of the other runs
  (five folds by run) against length-matched real speeches, finds least "generated":
  never a rule to ship (it grades with the test), and an overstatement even as a bound,
  since its real speeches come from the pool the arena's discriminator samples too.

With `--made DIR` (staged runs whose model turns stand for the model's own speech, such
as `make realness`'s), a second table scores the cast critic (agents/cast_critic.py, the
`cast_weight` setting), fitted on DIR's speeches: the scenes the style critic learns
from (agents/critic.py `held_out_scenes`) give its real lines, and the arena's
discriminator draws its real speeches from the other scenes only, so no line serves
both. Rules: kept; cast-critic (that critic alone); style+cast-critic (the style
critic's score plus half the critic's log odds, as `cast_weight=0.5` stages it). AUC and
the first judge's lift.

The picks are one-step counterfactuals: later turns were drawn after the kept speech,
not after the pick. A rule that cannot move a figure here cannot move it staged either,
to first order.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import numpy as np
from fidelity_table import by_cell

from dramatis.agents.critic import StyleCritic, bundled_realness
from dramatis.arena.attribution import judge_of
from dramatis.arena.canon import tokens
from dramatis.arena.context import Context, Contexts
from dramatis.arena.discriminator import classifier, discriminate, match_lengths, real_pools
from dramatis.arena.register import judge
from dramatis.arena.runs import Run
from dramatis.arena.voice import pooled_voice
from dramatis.arena.words import mask_names, normal
from dramatis.core.errors import DramatisError
from dramatis.staging import cast_personas
from dramatis.training.realness_build import made_speeches

RULES = ("kept", "first", "random", "realness", "register", "register-veto", "oracle")
FIGURES = (
    "discriminator_auc",
    "diction_ratio",
    "modern_words",
    "modern_register",
    "words_median",
    "attribution3_lift",
    "lift",
)
FOLDS = 5

Pick = Callable[[Run, int, dict], str]


def cells(root: Path) -> dict[str, list[Run]]:
    """Runs under `root` by cell ("2same-s3" -> "2same"), as the fidelity table groups them."""
    return by_cell([f for f in sorted(root.iterdir()) if (f / "transcript.jsonl").exists()])


def with_picks(runs: Sequence[Run], pick: Pick) -> list[Run]:
    """Copies of `runs` whose turns with candidates say `pick(run, i, turn)` instead."""
    out = []
    for run in runs:
        turns = [
            {**t, "text": pick(run, i, t)} if t.get("candidates") else t
            for i, t in enumerate(run.turns)
        ]
        out.append(
            Run(run.name, run.cast, turns, run.setting, run.source_scene, run.config, run.spec)
        )
    return out


def oracle_picks(runs: Sequence[Run], ctx: Context, seed: int) -> dict[tuple[str, int], str]:
    """(run name, turn index) -> the candidate least "generated" to a discriminator fitted
    without that run (five folds by run), on kept turns against length-matched real ones."""
    masked = judge_of(ctx).masked
    kept = {
        r.name: [t for t in r.scored if t["speaker"] in ctx.personas and tokens(t["text"])]
        for r in runs
    }
    every = [t for turns in kept.values() for t in turns]
    pools = real_pools(ctx, {normal(t["text"]) for t in every})
    names = sorted(kept)
    picks: dict[tuple[str, int], str] = {}
    for k in range(FOLDS):
        held = set(names[k::FOLDS])
        fit = [t for n in names if n not in held for t in kept[n]]
        if not fit or not held:
            continue
        real = match_lengths([(t["speaker"], len(tokens(t["text"]))) for t in fit], pools, seed + k)
        texts = [t["text"] for t in fit] + [text for _, _, text in real]
        labels = [1] * len(fit) + [0] * len(real)
        model = classifier().fit([mask_names(t, masked) for t in texts], labels)
        for run in runs:
            if run.name not in held:
                continue
            for i, turn in enumerate(run.turns):
                options = turn.get("candidates") or []
                if options:
                    p = model.predict_proba([mask_names(o, masked) for o in options])[:, 1]
                    picks[(run.name, i)] = options[int(np.argmin(p))]
    return picks


def first_judge_lift(runs: Sequence[Run], ctx: Context) -> float | None:
    """The first judge's lift on the pooled scored turns (balanced accuracy over all of
    a cell's turns, where the fidelity table averages each run's): None where the
    judge's ceiling is too near chance (arena/attribution.py)."""
    judge = judge_of(ctx)
    turns = [t for r in runs for t in r.scored if t["speaker"] in judge.labels]
    if not turns:
        return None
    report = judge.evaluate([t["text"] for t in turns], [t["speaker"] for t in turns])
    return report.get("lift")


def choose(rule: str, turn: dict, key: tuple[str, int], state: dict) -> str:
    """`rule`'s pick among `turn`'s candidates (`state`: the random generator, the
    realness table and the oracle's picks by (run, turn index))."""
    options = turn["candidates"]
    if rule == "first":
        return str(options[0])
    if rule == "random":
        return str(state["rng"].choice(options))
    if rule == "realness":
        return str(max(options, key=state["table"].score))
    if rule in ("register", "register-veto"):
        judged = partial(state["register"].register, turn["speaker"])
        if rule == "register-veto" and judged(turn["text"]) <= 0:
            return str(turn["text"])
        return str(min(options, key=judged))
    if rule == "oracle":
        return str(state["oracle"].get(key, turn["text"]))
    return str(turn["text"])


def _pick(rule: str, state: dict, run: Run, i: int, turn: dict) -> str:
    return choose(rule, turn, (run.name, i), state)


def study(root: Path, seed: int = 0) -> dict[str, dict[str, dict[str, float | None]]]:
    """rule -> cell -> figure, and each rule's mean over cells under "all"."""
    contexts = Contexts()
    out: dict[str, dict[str, dict[str, float | None]]] = {rule: {} for rule in RULES}
    for cell, runs in cells(root).items():
        ctx = contexts.get(runs[0].roles)
        state = {
            "rng": random.Random(seed),
            "table": bundled_realness(),
            "register": judge(),
            "oracle": oracle_picks(runs, ctx, seed),
        }
        for rule in RULES:
            chosen = with_picks(runs, partial(_pick, rule, state))
            figures = pooled_voice(chosen, ctx, seed)
            figures["lift"] = first_judge_lift(chosen, ctx)
            out[rule][cell] = {f: figures.get(f) for f in FIGURES}
            shown = ", ".join(f"{f} {_show(out[rule][cell][f])}" for f in FIGURES)
            print(f"{cell} {rule}: {shown}", file=sys.stderr)
    for rule in RULES:
        per_cell = list(out[rule].values())
        out[rule]["all"] = {f: _mean([c[f] for c in per_cell]) for f in FIGURES}
    return out


SPLIT_RULES = ("kept", "cast-critic", "style+cast-critic")
CAST_WEIGHT = 0.5  # style+cast-critic: the critic's log odds count half


def split_cell(runs: Sequence[Run], ctx: Context, made: Sequence[str], seed: int) -> dict:
    """One cell of `split_study`: rule -> {"discriminator_auc", "lift"}. The critics are
    the product's (agents/critic.py `StyleCritic.for_personas` with a cast critic fitted
    on `made`); the arena's discriminator draws its real speeches from the scenes they do
    not learn from (arena/discriminator.py `real_pools`), so no line serves both."""
    critic = StyleCritic.for_personas(
        cast_personas(runs[0].roles), cast_weight=CAST_WEIGHT, made=made
    )
    assert critic.cast is not None, "a cast with the plays' lines has a cast critic"

    def pick(rule: str, run: Run, i: int, turn: dict) -> str:
        options = turn["candidates"]
        if rule == "cast-critic":
            return str(options[int(np.argmax(critic.cast.log_odds(options)))])
        if rule == "style+cast-critic":
            return str(options[int(np.argmax(critic.rank(turn["speaker"], options)))])
        return str(turn["text"])

    out = {}
    for rule in SPLIT_RULES:
        chosen = with_picks(runs, partial(pick, rule))
        turns = [{**t, "run": f"{r.name}#{k}"} for k, r in enumerate(chosen) for t in r.scored]
        auc = discriminate(turns, ctx, seed).get("discriminator_auc")
        out[rule] = {"discriminator_auc": auc, "lift": first_judge_lift(chosen, ctx)}
    return out


def split_study(root: Path, made: Sequence[str], seed: int = 0) -> dict[str, dict[str, dict]]:
    """rule -> cell -> {"discriminator_auc", "lift"} with the real lines split by scene
    between a per-cast critic and the arena's discriminator (see the module's doc)."""
    contexts = Contexts()
    out: dict[str, dict[str, dict]] = {rule: {} for rule in SPLIT_RULES}
    for cell, runs in cells(root).items():
        for rule, figures in split_cell(runs, contexts.get(runs[0].roles), made, seed).items():
            out[rule][cell] = figures
            print(f"{cell} {rule} (split): {figures}", file=sys.stderr)
    for rule in SPLIT_RULES:
        per_cell = list(out[rule].values())
        out[rule]["all"] = {
            f: _mean([c[f] for c in per_cell]) for f in ("discriminator_auc", "lift")
        }
    return out


def _mean(values: Sequence[float | None]) -> float | None:
    found = [v for v in values if v is not None]
    return statistics.fmean(found) if found else None


def _show(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("runs", type=Path)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--made", type=Path, help="staged runs standing for the model's own speech")
    args = ap.parse_args(argv)
    found = cells(args.runs) if args.runs.is_dir() else {}
    if not any(t.get("candidates") for runs in found.values() for r in runs for t in r.turns):
        print(
            f"error: {args.runs}: no runs with kept candidates; stage them with "
            "`--set keep_candidates=true` (fidelity_runs.py --configs default-kc)",
            file=sys.stderr,
        )
        return 2
    try:  # the model turns `make realness` fits on, read as it reads them
        made = made_speeches(args.made, masked=True)[0] if args.made and args.made.is_dir() else []
    except DramatisError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.made and not made:
        print(
            f"error: {args.made}: no model speeches; stage them first (make realness)",
            file=sys.stderr,
        )
        return 2
    out = study(args.runs, args.seed)
    print("| rule | cell | " + " | ".join(FIGURES) + " |")
    print("|---|---|" + "---|" * len(FIGURES))
    for rule, per_cell in out.items():
        for cell, figures in per_cell.items():
            print(f"| {rule} | {cell} | " + " | ".join(_show(figures[f]) for f in FIGURES) + " |")
    result: dict = {"rules": out}
    if made:
        split = split_study(args.runs, made, args.seed)
        print("\n| rule (real lines split by scene) | cell | discriminator_auc | lift |")
        print("|---|---|---|---|")
        for rule, per_cell in split.items():
            for cell, figures in per_cell.items():
                print(
                    f"| {rule} | {cell} | {_show(figures['discriminator_auc'])} | {_show(figures['lift'])} |"
                )
        result["split"] = split
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
