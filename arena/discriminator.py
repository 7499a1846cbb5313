"""The discriminator: can a classifier tell the generated speeches from real ones?

For the cast turns of a run (or of many runs, pooled), real speeches of the same speakers
are drawn matched in length (each generated turn gets a real speech of its speaker with
the nearest word count, none twice), so that length alone is not the signal. A classifier
(char 2-4-gram + word 1-2-gram tf-idf, logistic regression; names masked) is
cross-validated with grouped folds: the turns of one run never sit in two folds (a run's
topic is not learned), nor the speeches of one real scene. The real speeches come from
the scenes the agents' critics do not learn from (round 20: the cast critic of best-of-n
learns the cast's lines in the other scenes, the style critic their function words). `discriminator_auc`: the
ROC AUC on each held-out fold (weighted mean), and the mean over REPEATS draws of the
real sample; 0.5 =
indistinguishable, 1 = always told apart. `length_auc`: the AUC of word count alone,
direction-free (max(a, 1 - a)), the reference the matching should bring near 0.5.
Calibration (docs/arena.md): real against real speeches 0.5 ± 0.05 pooled; modern
sentences against real ones 0.82-0.86. One run (12 turns) gives a noisy figure: the
fidelity table pools every run of a cell (`discriminate` over all their turns).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold

from dramatis.agents.cast_critic import classifier
from dramatis.agents.critic import held_out_scenes
from dramatis.arena.attribution import judge_of
from dramatis.arena.canon import tokens
from dramatis.arena.context import Context
from dramatis.arena.metric import Key, Score
from dramatis.arena.runs import Run
from dramatis.arena.words import mask_names, normal

FOLDS = 5
REPEATS = 3


def auc(labels: Sequence[int], scores: Sequence[float]) -> float:
    """ROC AUC of scores for label 1 (0.5 when only one class is present).

    auc([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]) -> 1.0
    """
    return float(roc_auc_score(labels, scores)) if len(set(labels)) == 2 else 0.5


def match_lengths(
    wanted: Sequence[tuple[str, int]], pools: dict[str, list[tuple[str, str]]], seed: int
) -> list[tuple[str, str, str]]:
    """For each (speaker, words) a real (speaker, scene, text) of that speaker with the
    nearest word count, ties broken at random, none used twice while any is left.

    match_lengths([("A", 2)], {"A": [("1.1", "a b c"), ("1.2", "a b")]}, 0) -> [("A", "1.2", "a b")]
    """
    rng = random.Random(seed)
    sized = {n: [(len(tokens(text)), scene, text) for scene, text in p] for n, p in pools.items()}
    left = {name: list(pool) for name, pool in sized.items()}
    out = []
    for name, words in wanted:
        pool = left.get(name) or list(sized.get(name, []))
        if not pool:
            continue
        rng.shuffle(pool)
        best = min(range(len(pool)), key=lambda i: abs(pool[i][0] - words))
        _, scene, text = pool.pop(best)
        left[name] = pool
        out.append((name, scene, text))
    return out


def grouped_auc(texts: list[str], y: np.ndarray, groups: np.ndarray, seed: int) -> float:
    """The AUC on each held-out fold of grouped, stratified folds, weighted by fold size.

    Per fold, not over pooled out-of-fold scores: each fold's model is fit on a slightly
    different class balance, which biases pooled scores below 0.5 when nothing separates
    the classes (measured: 0.41-0.47 pooled against ~0.5 per fold on real-vs-real)."""
    n_groups = min(len(set(groups[y == 1])), len(set(groups[y == 0])))
    folds = StratifiedGroupKFold(
        n_splits=max(2, min(FOLDS, n_groups)), shuffle=True, random_state=seed
    )
    x = np.array(texts, dtype=object)
    found, sizes = [], []
    for fit, held in folds.split(x, y, groups):
        if len(set(y[fit])) < 2 or len(set(y[held])) < 2:
            continue
        model = classifier().fit(x[fit], y[fit])
        found.append(auc(y[held].tolist(), model.predict_proba(x[held])[:, 1].tolist()))
        sizes.append(len(held))
    return float(np.average(found, weights=sizes)) if found else 0.5


def critic_scenes(ctx: Context) -> set[tuple[str, str]]:
    """The (play, scene) pairs the agents' critics learn from (agents/critic.py
    `held_out_scenes`: the third of every four scenes of the cast, the attribution judge's
    test scenes)."""
    if "critic_scenes" not in ctx.cache:
        scenes = {
            n: [(ctx.personas[n].play, s.scene_id) for s in ctx.real_speeches(n)] for n in ctx.cast
        }
        ctx.cache["critic_scenes"] = held_out_scenes(scenes)
    return ctx.cache["critic_scenes"]


def real_pools(ctx: Context, avoid: set[str]) -> dict[str, list[tuple[str, str]]]:
    """Each cast member's real (scene, text), leaving out texts in `avoid` (normalised)
    and the scenes the agents' critics learn from, so that choosing by a critic that
    learns the cast's lines is not choosing by the test's own real side."""
    skip = critic_scenes(ctx)
    return {
        name: [
            (f"{ctx.personas[name].play}:{s.scene_id}", s.text)
            for s in ctx.real_speeches(name)
            if normal(s.text) not in avoid
            and tokens(s.text)
            and (ctx.personas[name].play, s.scene_id) not in skip
        ]
        for name in ctx.cast
    }


def fold_group(turn: dict) -> str:
    """A turn's fold group: its real scene when it is a real line that knows it (so that a
    scene's topic never sits on both sides of a fold), else its "group", else its run.

    fold_group({"run": "s1", "scene": "hamlet:3.1"}) -> "hamlet:3.1"
    """
    return str(turn.get("scene") or f"gen:{turn.get('group', turn.get('run', ''))}")


def discriminate(turns: Sequence[dict], ctx: Context, seed: int = 0) -> dict[str, float]:
    """discriminator_auc and length_auc for turns of the cast; each turn's "group" (else
    its "run"; a real line's "scene") keeps its fold. {} with fewer than 4 usable turns."""
    turns = [t for t in turns if t["speaker"] in ctx.personas and tokens(t["text"])]
    if len(turns) < 4:
        return {}
    if len({fold_group(t) for t in turns}) < 2:  # one run: each turn its own group
        turns = [{**t, "group": i, "scene": None} for i, t in enumerate(turns)]
    pools = real_pools(ctx, {normal(t["text"]) for t in turns})
    masked = judge_of(ctx).masked
    aucs, length_aucs = [], []
    for r in range(REPEATS):
        wanted = [(t["speaker"], len(tokens(t["text"]))) for t in turns]
        real = match_lengths(wanted, pools, seed + r)
        texts = [t["text"] for t in turns] + [text for _, _, text in real]
        y = np.array([1] * len(turns) + [0] * len(real))
        groups = np.array([fold_group(t) for t in turns] + [scene for _, scene, _ in real])
        masked_texts = [mask_names(t, masked) for t in texts]
        aucs.append(grouped_auc(masked_texts, y, groups, seed + r))
        a = auc(y.tolist(), [len(tokens(t)) for t in texts])
        length_aucs.append(max(a, 1 - a))
    return {"discriminator_auc": float(np.mean(aucs)), "length_auc": float(np.mean(length_aucs))}


class Discriminator:
    """Generated against length-matched real speeches: classifier AUC and length AUC."""

    name = "discriminator"
    keys = (
        Key("discriminator_auc", "lower"),
        Key("length_auc", "", cli=False),
    )

    def score(self, run: Run, ctx: Context) -> Score:
        # One run: its turns cannot be kept apart by run, so each turn is its own group.
        turns = [{**t, "group": i} for i, t in enumerate(run.scored)]
        return Score(discriminate(turns, ctx, seed=int(run.spec.get("seed") or 0)))
