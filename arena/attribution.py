"""Speaker attribution: a classifier trained on the cast's real lines names the speaker
of each generated line.

Names are masked, so the judge hears voice, not addressing. Scenes are kept apart: the
cast's scenes are split into train and test (a quarter of each character's scenes),
the method is picked by scene-grouped cross-validation on train (balanced accuracy),
and the ceiling is the judge's balanced accuracy on the test scenes' real lines.
`Judge.train_keys` names the speeches it was fit on, so that a different critic can
be trained on disjoint lines.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline, make_pipeline

from dramatis.agents.critic import held_out_scenes
from dramatis.arena.context import Context
from dramatis.arena.words import mask_names, normal
from dramatis.core.errors import DramatisError

SpeechKey = tuple[str, int]  # (play key, speech index in the play)
MIN_SPAN = 0.1  # ceiling - chance below this: no lift reported


def _linear() -> SGDClassifier:
    # Logistic loss by SGD: within 0.03 of L-BFGS logistic regression on grouped CV for
    # the four-way cast here, and ~15x faster, which keeps scoring cheap beside generation.
    return SGDClassifier(
        loss="log_loss", alpha=1e-4, class_weight="balanced", max_iter=30, tol=None, random_state=0
    )


def char_vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=2)


def word_vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)


def char_ngrams() -> Pipeline:
    """Character 2-4-grams within word boundaries, tf-idf, logistic regression (SGD)."""
    return make_pipeline(char_vectorizer(), _linear())


def word_ngrams() -> Pipeline:
    """Word 1-2-grams, tf-idf, logistic regression (SGD)."""
    return make_pipeline(word_vectorizer(), _linear())


METHODS: dict[str, Callable[[], Pipeline]] = {
    "char-ngrams+logreg": char_ngrams,
    "word-ngrams+logreg": word_ngrams,
}


def split_scenes(
    scenes_of: dict[str, list[tuple[str, str]]], every: int = 4
) -> dict[tuple[str, str], str]:
    """Assign each (play, scene) to "train" or "test", so no scene gives lines to both:
    the test scenes are the ones the agents' critics learn from (agents/critic.py
    `held_out_scenes`: characters with the fewest scenes choose first, ties by name; of
    their scenes, in play order, the 3rd of every `every`).
    {"Ophelia": [1.3, 2.1, 3.1, 3.2, 4.5]} -> {1.3: train, 2.1: train, 3.1: test, 3.2: train, 4.5: train}
    """
    test = held_out_scenes(scenes_of, every)
    scenes = dict.fromkeys(scene for found in scenes_of.values() for scene in found)
    return {scene: "test" if scene in test else "train" for scene in scenes}


@dataclass
class Judge:
    """A fitted attribution classifier for one cast, with its held-out figures."""

    labels: list[str]
    method: str
    pipeline: Pipeline
    masked: list[str]  # names replaced by NAME before classifying
    train_keys: frozenset[SpeechKey]  # speeches the judge was fit on: critics avoid these
    train_texts: frozenset[str]  # their normalised texts, to flag lines the judge has seen
    test_keys: frozenset[SpeechKey]
    ceiling: float  # balanced accuracy on held-out real lines (test scenes)
    chance: float  # 1 / number of characters
    validation: dict[str, float] = field(default_factory=dict)  # method -> CV balanced acc

    def proba(self, texts: Sequence[str]) -> np.ndarray:
        """P(speaker | text), shape (len(texts), len(labels)), columns in `labels` order."""
        masked = [mask_names(t, self.masked) for t in texts]
        raw = self.pipeline.predict_proba(masked)
        order = [list(self.pipeline.classes_).index(label) for label in self.labels]
        return raw[:, order]

    def predict(self, texts: Sequence[str]) -> list[str]:
        return [self.labels[i] for i in self.proba(texts).argmax(axis=1)]

    def evaluate(self, texts: Sequence[str], truths: Sequence[str]) -> dict:
        """Accuracy, balanced accuracy, recall per character, confusion, lift."""
        return self.evaluate_predictions(self.predict(texts), truths)

    def evaluate_predictions(self, predicted: Sequence[str], truths: Sequence[str]) -> dict:
        return attribution_report(predicted, truths, self.labels, self.ceiling, self.chance)


def attribution_report(
    predicted: Sequence[str],
    truths: Sequence[str],
    labels: list[str],
    ceiling: float,
    chance: float,
) -> dict:
    """The attribution figures for predicted vs true speakers.

    lift = (balanced accuracy - chance) / (ceiling - chance): 0 at chance, 1 at the ceiling;
    left out when the ceiling is less than MIN_SPAN above chance.
    """
    index = {label: i for i, label in enumerate(labels)}
    confusion = np.zeros((len(labels), len(labels)), dtype=int)
    for p, t in zip(predicted, truths, strict=True):
        confusion[index[t], index[p]] += 1
    rows = confusion.sum(axis=1)
    recall = {labels[i]: float(confusion[i, i] / rows[i]) for i in range(len(labels)) if rows[i]}
    balanced = float(np.mean(list(recall.values()))) if recall else 0.0
    accuracy = float(np.trace(confusion) / confusion.sum()) if confusion.sum() else 0.0
    span = ceiling - chance
    report = {
        "accuracy": accuracy,
        "balanced_accuracy": balanced,
        "recall": recall,
        "confusion": confusion.tolist(),
        "labels": labels,
        "ceiling": ceiling,
        "chance": chance,
    }
    if span >= MIN_SPAN:  # a judge barely above chance on real lines gives no usable scale
        report["lift"] = (balanced - chance) / span
    return report


def cast_dataset(
    ctx: Context,
) -> tuple[list[str], list[str], list[str], list[SpeechKey], list[str]]:
    """(texts, speakers, splits, keys, scene groups) over every real speech of the cast."""
    by_speaker = {name: ctx.real_speeches(name) for name in ctx.cast}
    play = {name: ctx.personas[name].play for name in ctx.cast}
    splits = split_scenes({n: [(play[n], s.scene_id) for s in sp] for n, sp in by_speaker.items()})
    texts, speakers, which, keys, groups = [], [], [], [], []
    for name, speeches in by_speaker.items():
        for s in speeches:
            texts.append(s.text)
            speakers.append(name)
            which.append(splits[(play[name], s.scene_id)])
            keys.append((play[name], s.index))
            groups.append(f"{play[name]}:{s.scene_id}")
    return texts, speakers, which, keys, groups


def grouped_cv(
    make: Callable[[], Pipeline], features: Any, y: np.ndarray, groups: np.ndarray
) -> float:
    """Mean balanced accuracy over scene-grouped folds (no scene in two folds).

    `features` come from the method's tf-idf step fit once on all training lines
    (vocabulary and idf only, no labels); each fold fits the classifier alone."""
    folds = GroupKFold(n_splits=min(3, len(set(groups))))
    scores = []
    for fit, held in folds.split(features, y, groups):
        if len(set(y[fit])) < 2:
            continue
        model = make().steps[-1][1].fit(features[fit], y[fit])
        with warnings.catch_warnings():  # a fold may lack a character: recall over those present
            warnings.simplefilter("ignore", UserWarning)
            scores.append(balanced_accuracy_score(y[held], model.predict(features[held])))
    return float(np.mean(scores)) if scores else 0.0


def _pick(
    methods: dict[str, Callable[[], Pipeline]], x: np.ndarray, y: np.ndarray, groups: np.ndarray
) -> tuple[str, Pipeline, dict[str, float]]:
    """(best method, its pipeline fit on all of x, CV score per method)."""
    validation, fitted = {}, {}
    for name, make in methods.items():
        vec = make().steps[0][1]
        features = vec.fit_transform(x)
        validation[name] = grouped_cv(make, features, y, groups)
        fitted[name] = (vec, features)
    best = max(validation, key=lambda m: validation[m])
    vec, features = fitted[best]
    classifier = methods[best]().steps[-1][1].fit(features, y)
    return best, Pipeline([("features", vec), ("classifier", classifier)]), validation


def train_judge(ctx: Context, methods: dict[str, Callable[[], Pipeline]] | None = None) -> Judge:
    """Pick the method by grouped CV on the train scenes, fit it on them, and report the
    ceiling on the test scenes."""
    if len(ctx.cast) < 2:
        raise DramatisError("speaker attribution needs a cast of two or more characters")
    methods = methods or METHODS
    texts, speakers, which, keys, groups = cast_dataset(ctx)
    masked_names = sorted(set(ctx.proper_names()) | set(ctx.cast))
    x = np.array([mask_names(t, masked_names) for t in texts], dtype=object)
    y, split, group = np.array(speakers), np.array(which), np.array(groups)
    fit, test = split == "train", split == "test"
    best, model, validation = _pick(methods, x[fit], y[fit], group[fit])
    ceiling = float(balanced_accuracy_score(y[test], model.predict(x[test])))
    key_arr = np.array(keys, dtype=object)
    return Judge(
        labels=list(ctx.cast),
        method=best,
        pipeline=model,
        masked=masked_names,
        train_keys=frozenset(tuple(k) for k in key_arr[fit]),
        train_texts=frozenset(normal(t) for t, used in zip(texts, fit, strict=True) if used),
        test_keys=frozenset(tuple(k) for k in key_arr[test]),
        ceiling=ceiling,
        chance=1.0 / len(ctx.cast),
        validation=validation,
    )


def judge_of(ctx: Context) -> Judge:
    """The cast's speaker-attribution judge, trained on first use and kept in `ctx.cache`."""
    if "judge" not in ctx.cache:
        ctx.cache["judge"] = train_judge(ctx)
    return ctx.cache["judge"]


def second_judge_of(ctx: Context) -> Judge:
    """A second judge of the other feature family than `judge_of` (word n-grams when the
    first reads characters, and the reverse), so a selection tuned to one judge's
    features shows up as a gap between the two."""
    if "second_judge" not in ctx.cache:
        others = {k: v for k, v in METHODS.items() if k != judge_of(ctx).method}
        ctx.cache["second_judge"] = train_judge(ctx, others)
    return ctx.cache["second_judge"]
