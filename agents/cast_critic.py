"""A cast critic for best-of-n: which candidate sounds more like the cast's real lines than
like the model's own speeches.

The style critic (agents/critic.py) asks whose speech a candidate sounds like; this one
asks whether it sounds real. A classifier of character 2-4-grams and word 1-2-grams
(tf-idf, logistic regression, names masked) is fitted when a scene is built, on two
classes:
- real: the cast's own speeches in the scenes the style critic learns from (the third of
  every four scenes, agents/critic.py `held_out_scenes`); the arena's discriminator draws
  its real speeches from the other scenes only, so no line serves both;
- made: the speeches the default staged on the tuning casts (agents/data/made_speeches.json,
  written by `make realness` beside the realness table, names masked when written), none
  of them of a cast the held-out grids stage.
The two classes weigh the same in every band of speech length (`length_weights`), and
the log odds' slope on length among made speeches is taken off (`length_slope`), so that
the critic hears how a speech is said, not how long it is.

`log_odds` is log P(real) / P(made) for each candidate, which the style critic adds,
times `AgentSettings.cast_weight`, to its own score. An imported card character has no
play, so its lines are not among the real ones; a cast with no real line has no critic.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline, make_union

from dramatis.core.errors import DramatisError
from dramatis.personas.vocabulary import mask_names, tokens

MADE_FILE = Path(__file__).parent / "data" / "made_speeches.json"
LEAST_LINES = 20  # fewer real lines than this (a cast of card characters) fit no critic


def classifier() -> Pipeline:
    """Character 2-4-grams and word 1-2-grams, tf-idf, logistic regression (the arena's
    discriminator's kind, fitted on other lines)."""
    features = make_union(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=2),
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
    )
    return make_pipeline(features, LogisticRegression(C=1.0, solver="liblinear"))


@functools.lru_cache(maxsize=2)
def bundled_made(path: Path = MADE_FILE) -> tuple[str, ...]:
    """The shipped model speeches (names already masked), read once; a missing or broken
    file is a one-line error naming it and the fix."""
    fix = "run `make realness` to write it again"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DramatisError(f"{path}: missing; {fix}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DramatisError(f"{path}: cannot be read ({err}); {fix}") from None
    texts = data.get("speeches") if isinstance(data, dict) else None
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) and t for t in texts):
        raise DramatisError(f'{path}: "speeches" must be a non-empty list of texts; {fix}')
    return tuple(texts)


LENGTH_EDGES = (3, 6, 10, 15, 22, 35)  # word-count bins, each edge the bin's last count


def length_weights(lengths: Sequence[int], labels: Sequence[int]) -> np.ndarray:
    """Sample weights under which both classes have the same mass in every bin of speech
    length (LENGTH_EDGES), so that length alone tells the critic nothing (the arena's
    discriminator matches lengths for the same reason). A bin that holds one class only
    weighs nothing. Total mass: the number of speeches in bins that hold both classes.

    length_weights([2, 2, 2, 20], [1, 0, 0, 1]) -> [1.5, 0.75, 0.75, 0.0]
    """
    bins = np.searchsorted(LENGTH_EDGES, lengths)
    y = np.asarray(labels)
    out = np.zeros(len(y))
    for b in set(bins.tolist()):
        here = bins == b
        real, made = int((here & (y == 1)).sum()), int((here & (y == 0)).sum())
        if real and made:
            half = (real + made) / 2
            out[here & (y == 1)] = half / real
            out[here & (y == 0)] = half / made
    return out


class CastCritic:
    """Real lines of a cast against the model's own speeches (see the module's doc)."""

    def __init__(self, real: Sequence[str], made: Sequence[str], names: Sequence[str]) -> None:
        if not real or not made:
            raise ValueError("a cast critic needs real lines and made speeches")
        self.names = list(names)
        texts = [mask_names(t, self.names) for t in real] + list(made)
        labels = [1] * len(real) + [0] * len(made)
        lengths = [len(tokens(t)) for t in texts]
        weights = length_weights(lengths, labels)
        self.model = classifier().fit(texts, labels, logisticregression__sample_weight=weights)
        self.slope = length_slope(texts, labels, weights, lengths)

    def log_odds(self, texts: Sequence[str]) -> np.ndarray:
        """log P(real) / P(made) of each text, names masked as in fitting."""
        if not texts:
            return np.zeros(0)
        p = self.model.predict_proba([mask_names(t, self.names) for t in texts])[:, 1]
        p = np.clip(p, 1e-6, 1 - 1e-6)
        size = np.log1p([len(tokens(t)) for t in texts])
        return np.log(p / (1 - p)) - self.slope * size


def length_slope(
    texts: Sequence[str], labels: Sequence[int], weights: np.ndarray, lengths: Sequence[int]
) -> float:
    """How the critic's log odds of a made speech move with log(1 + its words), out of
    fold (five folds), as a least-squares slope: a longer speech holds more of the
    model's habits, so the raw log odds fall with length even among same-length-weighted
    classes (Spearman -0.21 over Othello and Iago's candidates). `log_odds` takes it off,
    so that the critic does not shorten speeches."""
    y = np.asarray(labels)
    x = np.array(texts, dtype=object)
    odds = np.zeros(len(y))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    for fit, held in folds.split(x, y):
        model = classifier().fit(x[fit], y[fit], logisticregression__sample_weight=weights[fit])
        p = np.clip(model.predict_proba(x[held])[:, 1], 1e-6, 1 - 1e-6)
        odds[held] = np.log(p / (1 - p))
    made = y == 0
    size = np.log1p(np.asarray(lengths, dtype=float)[made])
    if len(size) < 2 or np.var(size) == 0:
        return 0.0
    return float(np.cov(size, odds[made])[0, 1] / np.var(size, ddof=1))
