"""The voice metrics on real lines and on modern English: diction, modern words, length,
the discriminator and the group judge, and the metric registry that shows them."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from dramatis.arena import registry
from dramatis.arena.attribution import judge_of
from dramatis.arena.baselines import held_out_speeches
from dramatis.arena.canon import canon, tokens
from dramatis.arena.context import Context, Contexts
from dramatis.arena.diction import FORMS, Diction, canonical, count_forms, rate
from dramatis.arena.discriminator import discriminate, match_lengths
from dramatis.arena.early_modern import MIN_COUNT, MIN_PLAYS
from dramatis.arena.early_modern_forms import DERIVED
from dramatis.arena.group_judge import assign, group_figures, group_judge
from dramatis.arena.metric import Key, Score
from dramatis.arena.modern_words import ModernWords, outside
from dramatis.arena.ratings import fidelity
from dramatis.arena.runs import Run
from dramatis.arena.speech_length import length_figures, weighted_median
from dramatis.arena.voice import pooled_voice

CAST = ["much_ado_about_nothing:Beatrice", "much_ado_about_nothing:Benedick"]
RUN = Path(__file__).parent / "data" / "arena_run"

# Flat modern English of the kind a small model writes when it does not hear the plays.
MODERN = [
    "I am the king.",
    "You're the king.",
    "What's your king?",
    "I have one; a prince.",
    "So, I'm the one that you remember.",
    "Yes, I did.",
    "What you say I know, my lord.",
    "I have to tell you that a great thing is happening.",
    "Okay, I think we should talk about this later.",
    "Can you believe what she just said to me?",
    "I don't know what you're talking about.",
    "Honestly, it's not a big deal at all.",
    "We need to figure out what happened last night.",
    "He's been acting really weird lately, hasn't he?",
    "Let me call you back when I get home.",
    "That's the dumbest thing I've ever heard.",
    "I'm so tired of all this drama, seriously.",
    "You always do this, and it drives me crazy.",
    "Maybe we could grab some coffee tomorrow.",
    "I just want everyone to be happy, you know?",
    "Wait, are you saying that you lied to me?",
    "It's fine, I'm totally fine, don't worry about it.",
    "Nobody told me the meeting was cancelled.",
    "I guess I'll just have to deal with it myself.",
    "Look, I'm sorry, okay? I didn't mean it.",
    "She texted me about the party on Saturday.",
    "Do you want to come over and watch a movie?",
    "I can't believe you actually did that.",
    "My phone died, so I couldn't answer.",
    "Let's be real, nobody cares about that anymore.",
    "He said he would be here by five o'clock.",
    "I'm not going to argue with you about this.",
    "Whatever, it doesn't matter what I think.",
    "You look great today, by the way.",
    "I was just kidding, relax.",
    "We should probably get going before it's too late.",
    "That was awesome, we have to do it again.",
    "I don't really feel like talking right now.",
    "Are you sure this is a good idea?",
    "Thanks for helping me out with everything.",
]


@pytest.fixture(scope="module")
def ctx() -> Context:
    return Contexts().get(CAST)


def runs_of(pairs: list[tuple], source: str = "model", size: int = 12) -> list[Run]:
    """(speaker, text[, scene]) tuples cut into runs of `size` turns."""
    runs = []
    for start in range(0, len(pairs), size):
        turns = [
            {"speaker": p[0], "text": p[1], "source": source, "scene": p[2] if p[2:] else None}
            for p in pairs[start : start + size]
        ]
        runs.append(Run(f"r{start}", ["Beatrice", "Benedick"], turns, config="test"))
    return runs


def real_pairs(ctx: Context) -> list[tuple[str, str, str]]:
    """The cast's held-out real speeches (speaker, text, scene), alternating speakers as
    a 2-way scene does."""
    own = held_out_speeches(ctx)
    n = min(len(own[name]) for name in ctx.cast)
    pairs = [(name, own[name][i]) for i in range(n) for name in ctx.cast]
    return [(n, s.text, f"{ctx.personas[n].play}:{s.scene_id}") for n, s in pairs]


def modern_pairs() -> list[tuple[str, str]]:
    return [(("Beatrice", "Benedick")[i % 2], t) for i, t in enumerate(MODERN)]


def test_tokens_keep_the_plays_elisions() -> None:
    assert tokens("'Tis ne'er so; th' hour\u2019s come!") == [
        "'tis",
        "ne'er",
        "so",
        "th'",
        "hour's",
        "come",
    ]
    assert canonical("tis") == "'tis" and canonical("'farewell'") == "farewell"
    assert count_forms(tokens("Thou art a knave.")) == 3  # thou, art (beside thou), knave
    assert count_forms(tokens("Modern art is a puzzle.")) == 0


def test_shipped_forms_follow_the_rule_on_the_plays_side() -> None:
    plays = canon()
    for form in DERIVED:
        assert plays.counts[form] >= MIN_COUNT, form
        assert len(plays.plays_of[form]) >= MIN_PLAYS, form
        assert form.strip("'") not in plays.names, form
    core = "thou thee thy thine hath doth dost 'tis ay nay prithee ere wherefore hither"
    core += " thither whence anon methinks o'er 'twas e'en knowest"
    assert set(core.split()) <= FORMS
    assert not {"lord", "king", "the", "you", "sir", "good"} & FORMS  # common today too


def test_diction_scores_real_lines_near_their_rate_and_modern_sentences_near_zero(
    ctx: Context,
) -> None:
    # Every real speech of the pair, as 12-turn runs: the pooled ratio is 1 by definition,
    # a run's is not (a scene of banter may hold no "thou").
    speeches = [s for s in ctx.play_of("Beatrice").speeches() if s.speaker in ctx.personas]
    runs = runs_of([(s.speaker, s.text) for s in speeches])
    ratios = [Diction().score(r, ctx).values.get("diction_ratio", 0.0) for r in runs]
    assert 0.7 < float(np.median(ratios)) < 1.3
    assert np.mean([r > 0.3 for r in ratios]) > 0.75
    modern = Diction().score(runs_of(modern_pairs(), size=40)[0], ctx).values
    assert modern["diction"] == 0.0 and modern["diction_ratio"] == 0.0
    assert modern["real_diction"] > 2.0  # Beatrice and Benedick: ~3 forms per 100 words
    assert rate(["Thou art a knave.", "I am the king."]) == pytest.approx(37.5)


def test_modern_words_are_the_words_no_play_uses(ctx: Context) -> None:
    assert outside("Okay, 'tis my phone; o'er the hill, Benedick.") == ["okay", "phone"]
    modern = ModernWords().score(runs_of(modern_pairs(), size=40)[0], ctx).values
    assert modern["modern_words"] > 0.05
    # Real lines are checked against the other 36 plays: a small share is the playwright's
    # own rare words, well under the modern sentences'.
    real = runs_of(real_pairs(ctx), source="baseline", size=200)[0]
    assert ModernWords().score(real, ctx).values["modern_words"] < 0.03


def test_length_gap_is_small_for_real_lines_and_large_for_curt_turns(ctx: Context) -> None:
    assert weighted_median([1, 2, 10], [1, 1, 3]) == 10
    # Held-out real lines, pooled: near their speakers' medians (the pool is small: 13 of
    # Beatrice's speeches); every real speech as 12-turn runs: a run is noisier.
    held = [t for r in runs_of(real_pairs(ctx)) for t in r.scored]
    assert length_figures(held, ctx)["length_gap"] < 0.5  # 0.37: held-out scenes run long
    speeches = [s for s in ctx.play_of("Beatrice").speeches() if s.speaker in ctx.personas]
    runs = runs_of([(s.speaker, s.text) for s in speeches])
    gaps = [length_figures(r.scored, ctx)["length_gap"] for r in runs]
    assert float(np.median(gaps)) < 0.6  # 0.44: a scene's speeches share a length
    curt = length_figures([{**t, "text": "Yes, I did."} for t in held], ctx)
    assert curt["length_gap"] > 0.7 and curt["words_median"] == 3


def test_matching_picks_the_nearest_length_of_the_same_speaker() -> None:
    pools = {"A": [("1.1", "a b c"), ("1.2", "a b")], "B": [("2.1", "a")]}
    assert match_lengths([("A", 2)], pools, 0) == [("A", "1.2", "a b")]
    assert [m[0] for m in match_lengths([("A", 3), ("B", 9)], pools, 0)] == ["A", "B"]


def test_discriminator_is_near_chance_on_real_lines_and_high_on_modern_ones(
    ctx: Context,
) -> None:
    # Every other 12-speech stretch of the pair's real speeches plays "generated"; the
    # real sample is drawn from the rest (each line keeps its scene, so that a scene's
    # topic never sits on both sides of a fold).
    speeches = [s for s in ctx.play_of("Beatrice").speeches() if s.speaker in ctx.personas]
    tagged = [(s.speaker, s.text, f"much_ado_about_nothing:{s.scene_id}") for s in speeches]
    real_turns = [{**t, "run": r.name} for r in runs_of(tagged)[::2] for t in r.scored]
    real = discriminate(real_turns, ctx)
    assert 0.4 < real["discriminator_auc"] < 0.6, real  # 0.50 measured
    assert real["length_auc"] < 0.6  # matched in length
    modern_turns = [{**t, "run": r.name} for r in runs_of(modern_pairs()) for t in r.scored]
    # 0.84 measured (0.82-0.86 over seeds 0-2, with the real pool left out of the critics'
    # scenes or not): 40 modern sentences against the pair's real lines
    assert discriminate(modern_turns, ctx)["discriminator_auc"] > 0.8


def test_group_judge_ceiling_on_two_way_casts(ctx: Context) -> None:
    assert assign(np.array([[0.2, 0.9], [0.1, 0.3]])) == [1, 0]
    _, ceiling = group_judge(ctx)
    assert ceiling >= 0.8  # Beatrice / Benedick, same play
    assert ceiling > judge_of(ctx).ceiling  # above the line-by-line judge
    _, cross = group_judge(Contexts().get(["Iago", "Macbeth"]))
    assert cross >= 0.9


def test_group_judge_names_real_speakers_and_not_swapped_ones() -> None:
    ctx = Contexts().get(["Iago", "Macbeth"])  # 36 and 14 held-out speeches: 4 runs
    turns = [{**t, "run": r.name} for r in runs_of(real_pairs(ctx)) for t in r.scored]
    right = group_figures(turns, ctx)
    swap = {"Iago": "Macbeth", "Macbeth": "Iago"}
    wrong = group_figures([{**t, "speaker": swap[t["speaker"]]} for t in turns], ctx)
    assert right["attribution3_balanced"] > 0.7 > 0.3 > wrong["attribution3_balanced"]
    assert "attribution3_lift" in right  # ceiling - chance >= 0.2 here


@pytest.mark.model  # the register judge reads with SmolLM2
def test_pooled_voice_gives_every_figure(ctx: Context) -> None:
    figures = pooled_voice(runs_of(modern_pairs()), ctx)
    wanted = {"diction", "diction_ratio", "modern_words", "words_median", "real_words_median"}
    wanted |= {"length_gap", "discriminator_auc", "length_auc", "attribution3_balanced"}
    wanted |= {"modern_register", "register_mean"}
    assert wanted <= set(figures)


# --- the registry -------------------------------------------------------------------


def test_registry_keeps_the_tables_and_ratings_as_they_were() -> None:
    cli = "in_world prompt_echo repetition near_repetition dwelling copying fallback"
    cli += " impersonation knowledge_leak attribution_balanced attribution_lift"
    cli += " attribution2_balanced drift judge_saw rouge_l bleu"
    assert [k.name for k in registry.shown("cli")][:16] == cli.split()
    table = "in_world prompt_echo repetition near_repetition dwelling distinct_2 copying"
    table += " fallback impersonation knowledge_leak attribution_balanced attribution_lift"
    table += " attribution2_balanced drift rouge_l bleu next_speaker"
    assert [k.name for k in registry.shown("table")][:17] == table.split()
    values = {"in_world": 0.9, "prompt_echo": 0.1, "repetition": 0.2, "copying": 0.3}
    values |= {"fallback": 0.0, "impersonation": 0.1, "knowledge_leak": 0.05}
    values |= {"attribution_balanced": 0.6, "dwelling": 0.9, "diction": 3.0}
    old = [0.9, 0.9, 0.8, 0.7, 1.0, 0.9, 0.95, 0.6]  # the former hand-written formula
    assert fidelity(values) == pytest.approx(float(np.mean(old)))


class Exclamations:
    """Share of turns that end with "!" (a metric written in a test file alone)."""

    name = "exclamations"
    keys = (Key("exclaimed", "lower", fmt=".3f"),)

    def score(self, run: Run, ctx: Context) -> Score:
        flags = [t["text"].rstrip().endswith("!") for t in run.scored]
        return Score({"exclaimed": sum(flags) / max(1, len(flags))})


@pytest.fixture
def exclamations():
    registry.register(Exclamations)
    yield Exclamations
    registry.unregister("exclamations")


def test_a_metric_registered_in_a_test_reaches_the_cli_and_the_report(
    exclamations, tmp_path: Path
) -> None:
    from dramatis.arena.report import write_report
    from dramatis.cli import app

    with pytest.raises(ValueError, match="registered already"):
        registry.register(Exclamations)
    shutil.copytree(RUN, tmp_path / "runs" / "one")
    result = CliRunner().invoke(app, ["arena", "score", str(tmp_path / "runs"), "--no-baselines"])
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "exclaimed" in line)
    assert "0.083" in row  # 1 of 12 turns, at the metric's own format
    page = write_report(tmp_path).read_text()
    assert "<td>exclaimed</td>" in page and "Lower is better: " in page
    assert "exclaimed" in page.split("Lower is better: ")[1].split(".")[0]
