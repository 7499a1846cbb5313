"""Script overlap: ROUGE-L F1 and BLEU of a scene's generated turns against the play's
own continuation from the same starting point.

Only for runs seeded from a scene of a play (`source_scene`). The reference is the
real scene's speeches after the opening, as many as the run generated, joined in
order; the candidate is the generated turns joined. ROUGE-L 0..1, BLEU 0..100 (sacrebleu).
Calibrated by the baselines: the script scores 1.0 / 100 against itself; unrelated
real lines score near 0.1 / 1.
"""

from __future__ import annotations

import sacrebleu
from rouge_score import rouge_scorer

from dramatis.arena.context import Context
from dramatis.arena.metric import Key, Score
from dramatis.arena.runs import Run
from dramatis.personas import load_play


def continuation(source_scene: str, skip: int, count: int) -> list[tuple[str, str]]:
    """(speaker, text) of the real scene's speeches `skip`..`skip + count`."""
    play_key, scene_id = source_scene.split(":", 1)
    speeches = load_play(play_key).scene(scene_id).speeches
    return [(s.speaker, s.text) for s in speeches[skip : skip + count]]


def overlap(candidate: str, reference: str) -> tuple[float, float]:
    """(ROUGE-L F1, BLEU) of one text against another.

    overlap("to be or not to be", "to be or not to be") -> (1.0, 100.0)
    """
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    rouge = scorer.score(reference, candidate)["rougeL"].fmeasure
    bleu = sacrebleu.sentence_bleu(candidate, [reference]).score
    return float(rouge), float(bleu)


class ScriptOverlap:
    """ROUGE-L and BLEU against the real continuation (runs seeded from a scene)."""

    name = "script_overlap"
    keys = (Key("rouge_l", "higher"), Key("bleu", "higher"))

    def score(self, run: Run, ctx: Context) -> Score:
        if not run.source_scene or not run.scored:
            return Score({})
        real = continuation(run.source_scene, len(run.opening), len(run.scored))
        if not real:
            return Score({})
        candidate = " ".join(t["text"] for t in run.scored)
        rouge, bleu = overlap(candidate, " ".join(text for _, text in real))
        return Score({"rouge_l": rouge, "bleu": bleu})
