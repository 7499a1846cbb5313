"""Later-scene recitation (arena/later_spans.py) on known inputs."""

from __future__ import annotations

from dramatis.arena.context import Context
from dramatis.arena.later_spans import LaterSpans, later_grams, recites
from dramatis.arena.runs import Run
from dramatis.personas import load_play


def test_a_later_scenes_line_is_caught_and_an_earlier_ones_is_not():
    hamlet = load_play("hamlet")
    later = later_grams(hamlet, "1.2")
    assert recites("Then he said: to be, or not to be, that is the question, my lord.", later)
    assert not recites(
        "O, that this too too solid flesh would melt, thaw and resolve", later
    )  # 1.2
    assert not recites("I do beseech your lordship, stay a little.", later)  # a stock phrase


def _run(texts, source):
    turns = [
        {"speaker": "Hamlet", "text": t, "source": "model", "index": i} for i, t in enumerate(texts)
    ]
    spec = {"plays": {"Hamlet": "hamlet", "Horatio": "hamlet"}}
    return Run(name="r", cast=["Hamlet", "Horatio"], turns=turns, source_scene=source, spec=spec)


def test_the_metric_counts_turns_and_needs_a_point_in_the_story():
    ctx = Context.build(["hamlet:Hamlet", "hamlet:Horatio"])
    texts = ["To be, or not to be, that is the question: whether 'tis nobler", "Good morrow."]
    assert LaterSpans().score(_run(texts, "hamlet:1.2"), ctx).values == {"later_spans": 0.5}
    assert LaterSpans().score(_run(texts, "hamlet:3.2"), ctx).values == {"later_spans": 0.0}
    assert LaterSpans().score(_run(texts, None), ctx).values == {}
