"""Speaker attribution and drift: does each generated line sound like its speaker?

`attribution_*`: the cast's judge (dramatis.arena.attribution) labels every generated
turn; accuracy and balanced accuracy range 0..1, beside the judge's ceiling (balanced
accuracy on held-out real lines, scenes kept apart), chance (1 / cast size) and the
lift (balanced - chance) / (ceiling - chance): 0 at chance, 1 at the ceiling, below 0
worse than chance. `attribution2_balanced` / `attribution2_ceiling`: the same by a second
judge of the other feature family (word n-grams beside character n-grams), so that a
best-of-n critic cannot pass for fidelity by pleasing one judge's features. `drift`: the judge's probability for the true speaker, late half
of the scene minus early half (-1..1; negative: the voices fade). Calibrated by the
baselines: the script scores near the ceiling, swapped speakers below chance.
"""

from __future__ import annotations

import numpy as np

from dramatis.arena.attribution import judge_of, second_judge_of
from dramatis.arena.context import Context
from dramatis.arena.metric import Key, Score
from dramatis.arena.runs import Run
from dramatis.arena.words import normal

# Reported for reference, shown in no table.
HIDDEN = (
    "attribution_accuracy",
    "attribution_ceiling",
    "attribution_chance",
    "attribution2_ceiling",
)


def drift(confidence: list[float]) -> float:
    """Mean of the late half minus mean of the early half (0.0 under 4 turns).

    drift([0.9, 0.8, 0.4, 0.3]) -> -0.5
    """
    if len(confidence) < 4:
        return 0.0
    half = len(confidence) // 2
    return float(np.mean(confidence[-half:]) - np.mean(confidence[:half]))


class Attribution:
    """Judge accuracy on generated turns, lift over chance toward the ceiling, drift."""

    name = "attribution"
    keys = (
        Key("attribution_balanced", "higher", rating="gain"),
        Key("attribution_lift", "higher"),
        Key("attribution2_balanced", "higher"),
        Key("drift", "higher"),
        Key("judge_saw", "", table=False),
        *(Key(k, "", cli=False, table=False) for k in HIDDEN),
    )

    def score(self, run: Run, ctx: Context) -> Score:
        judge = judge_of(ctx)
        turns = [t for t in run.scored if t["speaker"] in judge.labels]
        if not turns:
            return Score({})
        texts, truths = [t["text"] for t in turns], [t["speaker"] for t in turns]
        proba = judge.proba(texts)
        predicted = [judge.labels[i] for i in proba.argmax(axis=1)]
        report = judge.evaluate_predictions(predicted, truths)
        confidence = [float(proba[i, judge.labels.index(s)]) for i, s in enumerate(truths)]
        values: dict[str, float] = {
            "attribution_accuracy": report["accuracy"],
            "attribution_balanced": report["balanced_accuracy"],
            "attribution_ceiling": report["ceiling"],
            "attribution_chance": report["chance"],
            "drift": drift(confidence),
            # Share of judged lines the judge was trained on (script and retrieval
            # baselines can hit these; their attribution is then optimistic).
            "judge_saw": sum(normal(t) in judge.train_texts for t in texts) / len(texts),
        }
        if "lift" in report:
            values["attribution_lift"] = report["lift"]
        second = second_judge_of(ctx)  # the other feature family, beside the first
        seconds = [second.labels[i] for i in second.proba(texts).argmax(axis=1)]
        other = second.evaluate_predictions(seconds, truths)
        values["attribution2_balanced"] = other["balanced_accuracy"]
        values["attribution2_ceiling"] = other["ceiling"]
        extra = {
            "method": judge.method,
            "recall": report["recall"],
            "confusion": report["confusion"],
            "labels": report["labels"],
            "predicted": predicted,
            "truths": truths,
        }
        return Score(values, per_turn=confidence, extra=extra)
