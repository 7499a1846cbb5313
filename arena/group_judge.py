"""The group judge: a speaker's turns in a run judged together, not one line at a time.

`attribution3_*`: a classifier of documents (char 2-4-gram tf-idf, logistic loss) is
trained on the cast's real speeches taken GROUP (6) consecutive speeches of one speaker
at a time, from the first judge's train scenes (names masked). Each speaker's turns in a
run are one such document; the run's speakers are matched one-to-one to the cast (the
assignment with the highest total log-probability). `attribution3_balanced`: balanced
accuracy of those labels (0-1). `attribution3_ceiling`: the same on real pseudo-runs,
4-fold scene-grouped cross-validation over all the cast's scenes (windows of 6 held-out
speeches per speaker, from one scene when the cast shares a play). `attribution3_chance`:
1 / cast size. `attribution3_lift`: (balanced - chance) / (ceiling - chance), only where
the ceiling is at least MIN_SPAN (0.2) above chance; absent (undefined) elsewhere.
Calibration (docs/arena.md): ceilings 0.75-0.95 on 2-way casts, 0.4-0.65 on 4-way ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline

from dramatis.arena.attribution import cast_dataset, char_ngrams, judge_of
from dramatis.arena.context import Context
from dramatis.arena.metric import Key, Score
from dramatis.arena.runs import Run
from dramatis.arena.words import mask_names

GROUP = 6  # a speaker's turns in a 12-turn, 2-way scene
STRIDE = 2  # training documents: windows of GROUP consecutive speeches, this far apart
MIN_SPAN = 0.2  # ceiling - chance below this: no lift
FOLDS = 4


@dataclass
class GroupJudge:
    """A classifier of documents made of GROUP speeches of one speaker."""

    labels: list[str]
    pipeline: Pipeline
    masked: list[str]

    def scores(self, groups: Sequence[Sequence[str]]) -> np.ndarray:
        """log P(speaker | group as one document), shape (len(groups), len(labels))."""
        docs = [mask_names(DOC_JOIN.join(g), self.masked) for g in groups]
        raw = self.pipeline.predict_proba(docs)
        order = [list(self.pipeline.classes_).index(label) for label in self.labels]
        return np.log(raw[:, order] + 1e-9)

    def label(self, groups: Sequence[Sequence[str]]) -> list[str]:
        """One label per group (the speakers of one run), matched one-to-one."""
        return [self.labels[i] for i in assign(self.scores(groups))]


DOC_JOIN = " \n"


def assign(scores: np.ndarray) -> list[int]:
    """For each row (a speaker's group), the column (label) of the one-to-one matching
    with the highest total; rows beyond the number of labels take their best column.

    assign(np.array([[0.2, 0.9], [0.1, 0.3]])) -> [1, 0]
    """
    rows, cols = linear_sum_assignment(scores, maximize=True)
    chosen = dict(zip(rows.tolist(), cols.tolist(), strict=True))
    return [chosen.get(i, int(scores[i].argmax())) for i in range(len(scores))]


def balanced(pairs: Sequence[tuple[str, str]]) -> float:
    """Balanced accuracy of (truth, predicted) pairs: mean recall over true labels.

    balanced([("a", "a"), ("a", "b"), ("b", "b")]) -> 0.75
    """
    recall: dict[str, list[bool]] = {}
    for truth, guess in pairs:
        recall.setdefault(truth, []).append(truth == guess)
    return float(np.mean([np.mean(v) for v in recall.values()])) if recall else 0.0


def windows(texts: Sequence[str], size: int = GROUP, stride: int = 1) -> list[list[str]]:
    """Runs of `size` consecutive texts, `stride` apart; all of them when fewer.

    windows(["a", "b", "c"], 2) -> [["a", "b"], ["b", "c"]]
    """
    if len(texts) <= size:
        return [list(texts)] if texts else []
    return [list(texts[i : i + size]) for i in range(0, len(texts) - size + 1, stride)]


def fit_group_judge(
    labels: list[str], by_speaker: dict[str, list[str]], masked: list[str]
) -> GroupJudge:
    """Fit on windows of each speaker's speeches (in play order), one document each."""
    docs, ys = [], []
    for name in labels:
        for window in windows(by_speaker.get(name, []), GROUP, STRIDE):
            docs.append(mask_names(DOC_JOIN.join(window), masked))
            ys.append(name)
    return GroupJudge(labels, char_ngrams().fit(docs, ys), masked)


def pseudo_runs(
    speeches: Sequence[tuple[str, str, str]], one_play: bool
) -> list[dict[str, list[str]]]:
    """Held-out (speaker, scene, text) as runs: per scene where two or more speak when the
    cast shares one play (a run's talk is one scene), else across all of them; each
    speaker gives windows of GROUP speeches, GROUP // 2 apart, cycled to the longest."""
    pools: dict[str, dict[str, list[str]]] = {}
    for speaker, scene, text in speeches:
        pools.setdefault(scene if one_play else "", {}).setdefault(speaker, []).append(text)
    runs = []
    for per in pools.values():
        if len(per) < 2:
            continue
        win = {n: windows(t, GROUP, GROUP // 2) for n, t in per.items()}
        for k in range(max(len(w) for w in win.values())):
            runs.append({n: w[k % len(w)] for n, w in win.items()})
    return runs


def _cv_ceiling(ctx: Context, masked: list[str]) -> float:
    """Balanced accuracy of the method on real pseudo-runs, FOLDS-fold scene-grouped CV."""
    texts, speakers, _, _, groups = cast_dataset(ctx)
    labels = list(ctx.cast)
    one_play = len({p.play for p in ctx.personas.values()}) == 1
    y, scenes = np.array(speakers), np.array(groups)
    pairs: list[tuple[str, str]] = []
    for fit, held in GroupKFold(n_splits=min(FOLDS, len(set(groups)))).split(texts, y, scenes):
        train = {n: [texts[i] for i in fit if y[i] == n] for n in labels}
        if sum(bool(t) for t in train.values()) < 2:
            continue
        judge = fit_group_judge(labels, train, masked)
        for run in pseudo_runs([(y[i], scenes[i], texts[i]) for i in held], one_play):
            names = list(run)
            pairs += list(zip(names, judge.label([run[n] for n in names]), strict=True))
    return balanced(pairs)


def group_judge(ctx: Context) -> tuple[GroupJudge, float]:
    """The cast's group judge (fit on the first judge's train scenes, so held-out real
    lines stay unseen) and its ceiling by scene-grouped CV over all scenes (cached)."""
    if "group_judge" not in ctx.cache:
        masked = judge_of(ctx).masked
        train = {
            name: [
                s.text
                for s in ctx.real_speeches(name)
                if (ctx.personas[name].play, s.index) in judge_of(ctx).train_keys
            ]
            for name in ctx.cast
        }
        judge = fit_group_judge(list(ctx.cast), train, masked)
        ctx.cache["group_judge"] = (judge, _cv_ceiling(ctx, masked))
    found: tuple[GroupJudge, float] = ctx.cache["group_judge"]
    return found


def group_figures(turns: Sequence[dict], ctx: Context) -> dict[str, float]:
    """attribution3_* over turns of one or many runs (each turn's "run" names its run)."""
    judge, ceiling = group_judge(ctx)
    by_run: dict[str, dict[str, list[str]]] = {}
    for t in turns:
        if t["speaker"] in judge.labels:
            by_run.setdefault(t.get("run", ""), {}).setdefault(t["speaker"], []).append(t["text"])
    pairs: list[tuple[str, str]] = []
    for groups in by_run.values():
        names = list(groups)
        pairs += list(zip(names, judge.label([groups[n] for n in names]), strict=True))
    if not pairs:
        return {}
    chance = 1.0 / len(judge.labels)
    out = {
        "attribution3_balanced": balanced(pairs),
        "attribution3_ceiling": ceiling,
        "attribution3_chance": chance,
    }
    if ceiling - chance >= MIN_SPAN:
        out["attribution3_lift"] = (out["attribution3_balanced"] - chance) / (ceiling - chance)
    return out


class GroupAttribution:
    """Each speaker's turns of a run attributed together, matched one-to-one to the cast."""

    name = "attribution3"
    keys = (
        Key("attribution3_balanced", "higher"),
        Key("attribution3_ceiling", "", cli=False),
        Key("attribution3_lift", "higher"),
        Key("attribution3_chance", "", cli=False, table=False),
    )

    def score(self, run: Run, ctx: Context) -> Score:
        return Score(group_figures([{**t, "run": run.name} for t in run.scored], ctx))
