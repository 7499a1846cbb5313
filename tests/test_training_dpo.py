"""The preference stage: pairs from the served pages (real play), DPO with TRL on the
tiny random Llama (tests/tiny_models.py), registry versions, and `train --dpo`."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from dramatis.core.errors import DramatisError
from dramatis.personas import find_persona, load_play
from dramatis.training.dataset import DataConfig, Dataset, Example, build_dataset, one_line
from dramatis.training.preference import (
    OWN,
    PairConfig,
    PreferencePair,
    PreferenceSet,
    build_preferences,
    with_own_replies,
)
from dramatis.training.registry import WEIGHTS, AdapterMeta, AdapterRegistry


def words(text: str) -> int:
    return len(text.split())


@pytest.fixture(scope="module")
def hamlet():
    persona = find_persona("Hamlet")
    play = load_play(persona.play)
    data = build_dataset(play, persona, DataConfig(), words)
    return play, data, build_preferences(play, data, PairConfig())


def test_chosen_is_the_speakers_line_and_rejected_another_speakers(hamlet):
    play, data, prefs = hamlet
    spoken: dict[str, set[str]] = {}  # line -> who says it in the play
    scene_of: dict[str, set[str]] = {}
    for s in play.speeches():
        spoken.setdefault(one_line(s.text), set()).add(s.speaker)
        scene_of.setdefault(one_line(s.text), set()).add(s.scene_id)
    assert len(prefs.train) > 200 and len(prefs.val) > 40
    for pair in prefs.train + prefs.val:
        assert pair.example.speaker == "Hamlet" and "Hamlet" in spoken[pair.chosen]
        assert pair.rejected_by != "Hamlet" and pair.rejected_by in spoken[pair.rejected]
        assert pair.rejected.lower() != pair.chosen.lower()
        assert pair.rejected not in pair.example.prompt  # not a line already on the page
        assert pair.example.prompt.endswith("HAMLET:")
    # a comparable context: most rejected lines come from the target's own scene
    same = sum(p.example.scene_id in scene_of[p.rejected] for p in prefs.train)
    assert same / len(prefs.train) > 0.9


def test_rejected_lines_are_of_similar_length(hamlet):
    _, _, prefs = hamlet
    gap = [abs(words(p.rejected) - words(p.chosen)) / words(p.chosen) for p in prefs.train]
    gap.sort()
    assert gap[len(gap) // 2] < 0.25, gap[len(gap) // 2]  # median within a quarter


def test_no_validation_scene_leaks_into_training_pairs(hamlet):
    play, data, prefs = hamlet
    val = set(data.val_scenes)
    assert val and prefs.val_scenes == data.val_scenes
    val_lines = {one_line(s.text) for s in play.speeches() if s.scene_id in val}
    train_lines = {one_line(s.text) for s in play.speeches() if s.scene_id not in val}
    for pair in prefs.train:
        assert pair.example.scene_id not in val
        assert pair.rejected in train_lines and pair.rejected not in val_lines - train_lines
        assert pair.chosen in train_lines
    assert all(p.example.scene_id in val and p.rejected in val_lines for p in prefs.val)
    # the pairs are SFT's own examples, in SFT's order
    assert [p.example for p in prefs.train] == data.train[: len(prefs.train)]


def test_the_draw_is_seeded(hamlet):
    play, data, prefs = hamlet
    again = build_preferences(play, data, PairConfig())
    other = build_preferences(play, data, PairConfig(seed=1))
    assert [p.rejected for p in again.train] == [p.rejected for p in prefs.train]
    changed = sum(a.rejected != b.rejected for a, b in zip(prefs.train, other.train, strict=True))
    assert changed > len(prefs.train) // 3


def test_own_replies_flagged_out_of_world_become_rejected(hamlet):
    from dramatis.arena.in_world import out_of_world

    *_, prefs = hamlet
    replies = iter(["Hamlet says: to be, or not to be.", "Get thee to a nunnery.", ""])
    more = with_own_replies(
        prefs, lambda page: next(replies), 3, keep=lambda t: out_of_world(t) is not None
    )
    own = [p for p in more.train if p.rejected_by == OWN]
    assert [p.rejected for p in own] == ["Hamlet says: to be, or not to be."]
    assert own[0].example == prefs.train[0].example and more.val == prefs.val
    assert more.stats()["own_replies"] == 1


def test_a_character_alone_on_stage_has_no_pairs():
    data = Dataset(
        "Hamlet", "hamlet", [Example("Hamlet", "9.9", 0, "x\n\nHAMLET:", "Alone.")], [], []
    )
    play = SimpleNamespace(speeches=lambda: [])
    with pytest.raises(DramatisError, match="no other speaker's lines"):
        build_preferences(play, data, PairConfig())


# -- DPO on the tiny random Llama ---------------------------------------------------

PAGE = "A platform before the castle.\n\nHAMLET: Horatio, or I do forget myself.\n\nHORATIO:"


def pair(chosen: str, rejected: str, i: int) -> PreferencePair:
    return PreferencePair(Example("Horatio", "1.2", i, PAGE, chosen), rejected, "Marcellus")


def tiny_prefs() -> PreferenceSet:
    a = ("The same, my lord, and your poor servant ever.", "Peace, break thee off; look!")
    b = ("A truant disposition, good my lord.", "Look, my lord, it comes!")
    return PreferenceSet(
        "Horatio", "hamlet", [pair(*a, 0), pair(*b, 1)], [pair(*a, 2), pair(*b, 3)], ["1.2"]
    )


def tiny_config(**changes):
    from dramatis.training.dpo import DPOTrainConfig
    from dramatis.training.trainer import AdapterConfig

    lora = AdapterConfig(r=4, alpha=8, dropout=0.0, target_modules=("q_proj", "v_proj"))
    base = dict(adapter=lora, lr=5e-2, grad_accum=2, max_steps=6, max_minutes=None, beta=0.1,
                sft_weight=0.0)  # fmt: skip
    return DPOTrainConfig(**{**base, **changes})


@pytest.fixture(scope="module")
def tiny():
    pytest.importorskip("trl")
    from tiny_models import byte_tokenizer, tiny_llama

    from dramatis.training.dpo import fresh_adapter, train_dpo

    tokenizer = byte_tokenizer()
    cfg = tiny_config()
    model = fresh_adapter(tiny_llama(len(tokenizer)), cfg)
    steps: list[tuple] = []
    result = train_dpo(model, tokenizer, tiny_prefs(), cfg, lambda *a: steps.append(a))
    return tokenizer, cfg, result, steps


def test_dpo_ranks_the_real_line_first_after_training(tiny):
    *_, result, steps = tiny
    assert result.steps == 6 and result.stopped_by == "steps" and len(steps) == 6
    assert [s[:2] for s in steps] == [(i, 6) for i in range(1, 7)]
    assert result.losses[0] == pytest.approx(math.log(2), abs=1e-4)  # policy = reference
    assert result.losses[-1] < 0.2, result.losses
    assert result.before.accuracy == 0.5  # a fresh LoRA is the base: every pair ties
    assert result.after.accuracy == 1.0 and result.dpo_accuracy_after == 1.0
    assert result.dpo_loss_after < math.log(2) - 0.3
    assert list(result.model.peft_config) == ["default"]  # TRL's reference copy is gone


def test_chosen_perplexity_is_sfts_validation_measure(tiny):
    from tiny_models import tiny_llama

    from dramatis.training.trainer import encode, mean_loss

    tokenizer, cfg, result, _ = tiny
    val = [p.example for p in tiny_prefs().val]
    encoded = [encode(tokenizer, e, cfg.max_target_tokens) for e in val]
    assert result.before.val_loss == pytest.approx(
        mean_loss(tiny_llama(len(tokenizer)), encoded), abs=1e-4
    )
    assert result.after.val_loss == pytest.approx(mean_loss(result.model, encoded), abs=1e-4)


def test_an_sft_term_keeps_the_real_lines_likely(tiny):
    from tiny_models import tiny_llama

    from dramatis.training.dpo import fresh_adapter, train_dpo

    tokenizer, _, plain, _ = tiny
    cfg = tiny_config(sft_weight=1.0)
    model = fresh_adapter(tiny_llama(len(tokenizer)), cfg)
    rpo = train_dpo(model, tokenizer, tiny_prefs(), cfg)
    assert rpo.losses[0] > math.log(2) + 1.0  # DPO's log 2 plus the chosen lines' NLL
    assert rpo.after.accuracy == 1.0
    assert rpo.after.val_loss < plain.after.val_loss - 0.1 < plain.before.val_loss


def test_dpo_starts_from_a_saved_adapter(tiny, tmp_path):
    import torch
    from tiny_models import tiny_llama

    from dramatis.training.dpo import load_adapter, train_dpo, trained
    from dramatis.training.pipeline import save_adapter
    from dramatis.training.trainer import encode

    tokenizer, cfg, result, _ = tiny
    meta = AdapterMeta(character="Horatio", play="hamlet", base_model="tiny",
                       base_sha256="0" * 64, data_sha256="d", stage="dpo")  # fmt: skip
    save_adapter(result.model, meta, tmp_path, result.model.config)
    loaded = load_adapter(tiny_llama(len(tokenizer)), tmp_path)
    ids = torch.tensor([encode(tokenizer, tiny_prefs().val[0].example, 60).input_ids])
    with torch.no_grad():
        assert torch.allclose(loaded(input_ids=ids).logits, result.model(input_ids=ids).logits)
    assert trained(loaded) and any(p.requires_grad for p in loaded.parameters())
    again = train_dpo(loaded, tokenizer, tiny_prefs(), tiny_config(max_steps=1))
    # the start already prefers the real lines over the base's ranking, before this run
    assert again.before.accuracy == 1.0
    assert again.before.val_loss == pytest.approx(result.after.val_loss, abs=1e-4)


def test_a_budget_stops_before_a_step_that_would_not_fit():
    from dramatis.training.dpo import budget_callback

    clock = budget_callback(0.0, None)
    state = SimpleNamespace(global_step=1, max_steps=5)
    control = SimpleNamespace(should_training_stop=False)
    clock.on_step_end(None, state, control)
    assert control.should_training_stop and clock.stopped_by == "budget"


# -- registry and CLI ---------------------------------------------------------------


def staged(tmp_path, n: int):
    folder = tmp_path / f"staged{n}"
    folder.mkdir()
    (folder / WEIGHTS).write_bytes(b"weights %d" % n)
    return folder


def test_a_dpo_version_keeps_its_metrics_and_rolls_back(tmp_path):
    from dramatis.training.pipeline import better

    reg = AdapterRegistry(tmp_path / "adapters")
    sft = AdapterMeta(character="Hamlet", play="hamlet", base_model="b.gguf",
                      base_sha256="a" * 64, data_sha256="d", ppl_before=99.0, ppl_after=80.0)  # fmt: skip
    reg.add(staged(tmp_path, 1), sft)
    dpo = sft.model_copy(
        update={
            "stage": "dpo",
            "parent": 1,
            "ppl_before": 80.0,
            "ppl_after": 79.5,
            "metrics": {"accuracy_before": 0.6, "accuracy_after": 0.75},
        }  # fmt: skip
    )
    reg.add(staged(tmp_path, 2), dpo, activate=better(dpo))
    again = AdapterRegistry(tmp_path / "adapters").active("Hamlet", "hamlet")
    assert again.version == 2 and again.meta.stage == "dpo" and again.meta.parent == 1
    assert again.meta.metrics["accuracy_after"] == 0.75
    assert reg.rollback("Hamlet", "hamlet").meta.stage == "sft"
    worse = dpo.model_copy(update={"ppl_after": 85.0})  # chosen lines got less likely
    reg.add(staged(tmp_path, 3), worse, activate=better(worse))
    assert reg.active("Hamlet", "hamlet").version == 1


def test_older_meta_files_read_as_sft_versions(tmp_path):
    folder = tmp_path / "adapters" / "hamlet.hamlet" / "v1"
    folder.mkdir(parents=True)
    (folder / "meta.json").write_text(
        '{"character": "Hamlet", "play": "hamlet", "version": 1, "base_model": "b.gguf",'
        ' "base_sha256": "a", "data_sha256": "d"}'
    )
    (v1,) = AdapterRegistry(tmp_path / "adapters").versions("Hamlet", "hamlet")
    assert (v1.meta.stage, v1.meta.parent, v1.meta.metrics) == ("sft", None, {})


@pytest.fixture
def dpo_run(monkeypatch, home):
    """Replace the DPO run; record its config."""
    seen = []

    def fake(name, settings, cfg, *, play=None, progress=None, log=print):
        seen.append(cfg)
        progress(1, 2, 0.69, 0.1)
        meta = SimpleNamespace(
            character=name, version=3, steps=2, stopped_by="budget", ppl_before=80.0,
            ppl_after=79.0, parent=2, metrics={"accuracy_before": 0.55, "accuracy_after": 0.7},
        )  # fmt: skip
        return SimpleNamespace(name=f"hamlet.hamlet@v{meta.version}", meta=meta)

    monkeypatch.setattr("dramatis.training.pipeline.train_character_dpo", fake)
    return seen


def test_train_dpo_passes_its_options(dpo_run):
    from dramatis.cli import app

    result = CliRunner().invoke(
        app,
        [
            "train",
            "Hamlet",
            "--dpo",
            "--minutes",
            "4",
            "--beta",
            "0.2",
            "--lr",
            "5e-5",
            "--threads",
            "1",
            "--own-replies",
            "3",
        ],  # fmt: skip
    )
    assert result.exit_code == 0, result.output
    (cfg,) = dpo_run
    assert (cfg.beta, cfg.lr, cfg.max_minutes, cfg.threads) == (0.2, 5e-5, 4.0, 1)
    assert cfg.grad_accum == 2 and cfg.sft_weight == 1.0 and cfg.pairs.own_replies == 3
    assert "hamlet.hamlet@v3 active" in result.output
    assert "preference accuracy 0.55 -> 0.70 (from v2)" in result.output


def test_train_dpo_without_trl_names_the_fix(monkeypatch):
    import builtins

    from dramatis.training.dpo import trl_trainer

    real = builtins.__import__

    def no_trl(name, *args, **kwargs):
        if name == "trl":
            raise ImportError("No module named 'trl'", name="trl")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_trl)
    with pytest.raises(DramatisError, match=r"trl is missing\): run `make install-dev`"):
        trl_trainer(None, None, [], tiny_config(), 1, [])


# -- the real base ------------------------------------------------------------------


@pytest.mark.slow  # ~1-2 min: the real base, a few pairs, one DPO step
def test_dpo_on_the_real_base_gives_a_loadable_version(home, monkeypatch):
    pytest.importorskip("trl")
    from dramatis.agents.catalog import resolve_model
    from dramatis.agents.llama_backend import LlamaCppModel
    from dramatis.core.settings import Settings
    from dramatis.training import pipeline
    from dramatis.training.dpo import DPOTrainConfig, train_dpo

    def few(model, tokenizer, prefs, cfg, progress=None, *, started=None):
        small = PreferenceSet(prefs.character, prefs.play, prefs.train[:2], prefs.val[:2])
        return train_dpo(model, tokenizer, small, cfg, progress, started=None)

    monkeypatch.setattr("dramatis.training.dpo.train_dpo", few)
    settings = Settings.load(home=home, model="smollm2").ensure()  # the small, fast base
    cfg = DPOTrainConfig(data=DataConfig(history_tokens=200), grad_accum=2, max_steps=1,
                         max_minutes=None, threads=1)  # fmt: skip
    found = pipeline.train_character_dpo("Horatio", settings, cfg, log=lambda _: None)
    assert found.meta.stage == "dpo" and found.meta.parent is None and found.meta.steps == 1
    assert 0.0 <= found.meta.metrics["accuracy_after"] <= 1.0 and found.gguf.stat().st_size > 0
    model = LlamaCppModel(resolve_model("smollm2", None), n_threads=1, seed=0)
    model.load_adapter(found.name, found.gguf)
