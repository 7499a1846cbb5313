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

`log_odds` is log P(real) / P(made) for each candidate, which the style critic adds,
times `AgentSettings.cast_weight`, to its own score. An imported card character has no
play, so its lines are not among the real ones; a cast with fewer than LEAST_LINES real
lines in those scenes gets no cast critic (the weight is then 0).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dramatis.core.errors import DramatisError
from dramatis.personas.vocabulary import mask_names

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

MADE_FILE = Path(__file__).parent / "data" / "made_speeches.json"
LEAST_LINES = 20  # fewer real lines than this (a cast of card characters) fit no critic


def classifier() -> Pipeline:
    """Character 2-4-grams and word 1-2-grams, tf-idf, logistic regression (the arena's
    discriminator's kind, fitted on other lines). scikit-learn is the `arena` extra, so
    it loads here, only for a scene or a table that asks for it."""
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline, make_union
    except ImportError:
        raise DramatisError(
            "the cast critic (cast_weight) needs scikit-learn: pip install 'dramatis[arena]'"
        ) from None
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


class CastCritic:
    """Real lines of a cast against the model's own speeches (see the module's doc)."""

    def __init__(self, real: Sequence[str], made: Sequence[str], names: Sequence[str]) -> None:
        if not real or not made:
            raise ValueError("a cast critic needs real lines and made speeches")
        self.names = list(names)
        texts = [mask_names(t, self.names) for t in real] + list(made)
        labels = [1] * len(real) + [0] * len(made)
        self.model = classifier().fit(texts, labels)

    def log_odds(self, texts: Sequence[str]) -> np.ndarray:
        """log P(real) / P(made) of each text, names masked as in fitting."""
        if not texts:
            return np.zeros(0)
        p = self.model.predict_proba([mask_names(t, self.names) for t in texts])[:, 1]
        p = np.clip(p, 1e-6, 1 - 1e-6)
        return np.log(p / (1 - p))
