"""Fit the learned next-speaker policy on the canon's turn-taking.

Every speech after a scene's first is one choice among the characters on stage (as the
play's directions put them) given the real speeches before it. The weights maximise the
log-likelihood of the real speakers under a softmax over each choice's candidates
(Newton's method, a small L2 penalty), on every play but the held-out ones.

    python -m dramatis.agents.policy_fit   # rewrites agents/data/next_speaker.json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from dramatis.agents.learned_policy import FEATURES, WEIGHTS_FILE, features
from dramatis.agents.turn import Turn, make_turn
from dramatis.personas import Scene, list_plays, load_play
from dramatis.personas.model import GROUP_SPEAKERS

# Whole plays never fitted on: the stage voice's held-out three (training/canon.py) plus
# a tragedy, a romance and a history the product stages often.
HELD_OUT = (
    "much_ado_about_nothing",
    "julius_caesar",
    "twelfth_night",
    "hamlet",
    "tempest",
    "henry_iv_part_1",
)
L2 = 1.0  # penalty on the summed log-likelihood of ~25k choices: keeps rare features finite

Choice = tuple[list[str], list[Turn], str]  # (on stage, speeches so far, who spoke next)


def scene_choices(scene: Scene) -> Iterator[Choice]:
    """Each speech after the first by one speaker who was on stage at the speech before,
    among the scene's speaking parts on stage then (two or more).

    The stage is the one at the previous speech: a parsed speech's own stage always holds
    its speaker (the parser adds one no direction brought on), which would give it away.
    Mutes and attendants who never speak in the scene are left out, as a staged cast has
    none: with them, "has not spoken yet" would mostly mean "never will".
    """
    speaking = {s.speaker for s in scene.speeches} - set(GROUP_SPEAKERS)
    turns = [
        make_turn(i, s.speaker, s.text, source="play", present=list(s.on_stage))
        for i, s in enumerate(scene.speeches)
    ]
    for i, speech in enumerate(scene.speeches[1:], 1):
        stage = [n for n in scene.speeches[i - 1].on_stage if n in speaking]
        if len(stage) >= 2 and speech.speaker in stage:
            yield stage, turns[:i], speech.speaker


def play_choices(plays: Sequence[str]) -> list[Choice]:
    """Every choice of every scene of `plays`."""
    return [c for key in plays for scene in load_play(key).scenes() for c in scene_choices(scene)]


def design(choices: Sequence[Choice]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Padded features (N, K, F), the mask of real candidates (N, K), true indices (N,)."""
    width = max(len(stage) for stage, _, _ in choices)
    x = np.zeros((len(choices), width, len(FEATURES)))
    mask = np.zeros((len(choices), width), dtype=bool)
    y = np.zeros(len(choices), dtype=int)
    for i, (stage, turns, truth) in enumerate(choices):
        x[i, : len(stage)] = [features(name, turns) for name in stage]
        mask[i, : len(stage)] = True
        y[i] = stage.index(truth)
    return x, mask, y


def probabilities(w: np.ndarray, x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Softmax over each choice's candidates (N, K); padding gets 0."""
    scores = np.where(mask, x @ w, -np.inf)
    scores -= scores.max(axis=1, keepdims=True)
    e = np.exp(scores)
    return e / e.sum(axis=1, keepdims=True)


def mean_log_likelihood(w: np.ndarray, x: np.ndarray, mask: np.ndarray, y: np.ndarray) -> float:
    """Mean log-probability of the real speakers."""
    p = probabilities(w, x, mask)
    return float(np.log(p[np.arange(len(y)), y]).mean())


def fit(
    x: np.ndarray, mask: np.ndarray, y: np.ndarray, l2: float = L2, steps: int = 30
) -> np.ndarray:
    """Maximum-likelihood weights (F,) by Newton's method on the penalised log-likelihood."""
    w = np.zeros(x.shape[2])
    rows = np.arange(len(y))
    for _ in range(steps):
        p = probabilities(w, x, mask)  # (N, K)
        mean = np.einsum("nk,nkf->nf", p, x)  # expected features per choice
        grad = (x[rows, y] - mean).sum(axis=0) - l2 * w
        centred = x - mean[:, None, :]
        hess = np.einsum("nk,nkf,nkg->fg", p, centred, centred) + l2 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w += step
        if np.abs(step).max() < 1e-8:
            break
    return w


def top1(w: np.ndarray, x: np.ndarray, mask: np.ndarray, y: np.ndarray) -> float:
    """Share of choices whose highest score is the real speaker (ties: first candidate)."""
    scores = np.where(mask, x @ w, -np.inf)
    return float((scores.argmax(axis=1) == y).mean())


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=WEIGHTS_FILE)
    args = parser.parse_args(argv)
    train_plays = [p for p in list_plays() if p not in HELD_OUT]
    x, mask, y = design(play_choices(train_plays))
    hx, hmask, hy = design(play_choices(HELD_OUT))
    w = fit(x, mask, y)
    weights = [round(float(v), 5) for v in w]
    manifest = {
        "command": "python -m dramatis.agents.policy_fit",
        "train_plays": train_plays,
        "held_out_plays": list(HELD_OUT),
        "l2": L2,
        "train_choices": len(y),
        "held_out_choices": len(hy),
        "train_mean_log_likelihood": round(mean_log_likelihood(w, x, mask, y), 4),
        "held_out_mean_log_likelihood": round(mean_log_likelihood(w, hx, hmask, hy), 4),
        "train_top1": round(top1(w, x, mask, y), 4),
        "held_out_top1": round(top1(w, hx, hmask, hy), 4),
    }
    data = {"features": list(FEATURES), "weights": weights, "manifest": manifest}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    json.dump(dict(zip(FEATURES, weights, strict=True)) | manifest, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
