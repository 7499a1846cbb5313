"""One character, start to finish: play -> pairs -> LoRA -> safetensors + GGUF -> registry."""

from __future__ import annotations

import hashlib
import json
import math
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dramatis.core.errors import DramatisError
from dramatis.core.settings import Settings
from dramatis.training.dataset import DataConfig, Dataset, build_dataset
from dramatis.training.registry import WEIGHTS, AdapterMeta, AdapterRegistry, AdapterVersion
from dramatis.training.trainer import Progress, TrainConfig, TrainResult, train

if TYPE_CHECKING:
    from dramatis.training.dpo import DPOTrainConfig


def registry_for(settings: Settings) -> AdapterRegistry:
    return AdapterRegistry(settings.home / "adapters")


def data_sha256(data: Dataset) -> str:
    """Content hash of the pairs and their split (order included)."""
    digest = hashlib.sha256()
    for part, examples in (("train", data.train), ("val", data.val)):
        for e in examples:
            row = [part, e.scene_id, e.index, e.prompt_format, e.prompt, e.target]
            digest.update(json.dumps(row).encode())
    return digest.hexdigest()


def save_adapter(result: TrainResult | Any, meta: AdapterMeta, folder: Path, base_config) -> None:
    """peft weights as safetensors (our metadata in the header) and the GGUF export.

    `result`: a TrainResult, or the peft model itself."""
    from safetensors.numpy import load_file, save_file

    from dramatis.training.export import export_gguf

    model = result.model if isinstance(result, TrainResult) else result
    model.save_pretrained(str(folder), safe_serialization=True)
    weights = folder / WEIGHTS
    header = {"format": "pt", "dramatis": meta.model_dump_json()}
    save_file(load_file(str(weights)), str(weights), metadata=header)
    export_gguf(
        folder,
        folder / "adapter.gguf",
        n_head=base_config.num_attention_heads,
        n_kv_head=base_config.num_key_value_heads,
        model_type=base_config.model_type,
        metadata={"character": meta.character, "play": meta.play, "base_sha256": meta.base_sha256},
    )


@dataclass
class Character:
    """A character ready to train: persona, play, base model and the token helpers the
    dataset builder needs."""

    persona: Any
    play: Any
    ref: Any  # BaseModelRef
    model: Any
    tokenizer: Any

    def count(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def render_chat(self, messages) -> str:
        rows = [{"role": m.role, "content": m.content} for m in messages]
        return self.tokenizer.apply_chat_template(rows, tokenize=False, add_generation_prompt=True)


def open_base(settings: Settings) -> tuple[Any, Any, Any]:
    """(BaseModelRef, model, tokenizer): the base adapters are trained on, opened."""
    from dramatis.agents.catalog import resolve_model
    from dramatis.agents.hf_base import base_ref, load_base

    base = resolve_model(settings.model, settings.cache_dir)
    ref = base_ref(base, settings.cache_dir)
    model, tokenizer = load_base(ref, settings.cache_dir)
    return ref, model, tokenizer


@dataclass(frozen=True)
class VoiceUnder:
    """The stage voice a character's adapter is trained on, folded into the base at the
    scale it will be served at (AdapterMeta.voice holds `to_json()`)."""

    name: str  # "plays.stage-voice@shipped" or a version trained here
    sha256: str  # of its GGUF file
    scale: float
    gguf: Path

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "sha256": self.sha256, "scale": self.scale}


DEFAULT_VOICE_SCALE = 1.0  # what a scene stacks the stage voice at when it names none


def voice_under(settings: Settings, model_path: Path, scale: float | None) -> VoiceUnder | None:
    """The stage voice to train on at `scale`: None: the default scale (1) where a voice
    exists for this base, else the bare base; 0: the bare base. A scale > 0 with no voice
    for the base is a DramatisError."""
    from dramatis.agents.hf_base import file_sha256
    from dramatis.training.serving import find_stage_voice

    if scale is not None and scale <= 0:
        return None
    voice = find_stage_voice(settings, model_path)
    if voice is None:
        if scale is None:
            return None
        raise DramatisError(
            f"--voice-scale {scale:g}: no stage voice for {model_path.name} to train on; "
            "train one with `dramatis train --stage-voice`, or pass --voice-scale 0"
        )
    chosen = DEFAULT_VOICE_SCALE if scale is None else scale
    return VoiceUnder(voice.name, file_sha256(voice.gguf, settings.cache_dir), chosen, voice.gguf)


def fold_voice(c: Character, voice: VoiceUnder) -> None:
    """Fold `voice` into the opened base's weights at its scale (training/fold.py)."""
    from dramatis.training.fold import fold_into_model, read_gguf_lora

    fold_into_model(c.model, read_gguf_lora(voice.gguf), voice.scale)


def recorded_voice(settings: Settings, model_path: Path, meta: AdapterMeta) -> VoiceUnder | None:
    """The voice a version was trained on, found again for further training (DPO);
    None for a version trained on the bare base. The voice gone or changed: a DramatisError."""
    if not meta.voice:
        return None
    voice = voice_under(settings, model_path, float(meta.voice["scale"]))
    if voice is None or voice.sha256 != meta.voice.get("sha256"):
        raise DramatisError(
            f"{meta.character} v{meta.version} was trained on stage voice "
            f"{meta.voice.get('name')} (sha256 {str(meta.voice.get('sha256'))[:12]}), which "
            f"is no longer the voice for {model_path.name}: retrain it with "
            f"`dramatis train '{meta.play}:{meta.character}'` first"
        )
    return voice


def open_character(name: str, settings: Settings, play: str | None) -> Character:
    """`name`'s persona and play, and the base model opened for training."""
    from dramatis.personas import find_persona, load_play

    persona = find_persona(name, play)
    the_play = load_play(persona.play)
    ref, model, tokenizer = open_base(settings)
    return Character(persona, the_play, ref, model, tokenizer)


def train_stage_voice(
    settings: Settings,
    cfg: TrainConfig,
    voice: Any,  # training.voice.VoiceConfig
    *,
    progress: Progress | None = None,
    log: Callable[[str], None] = print,
) -> AdapterVersion:
    """Train the shared stage voice (training/voice.py) and register it as a new version
    of "Stage voice", made active when it validates no worse than the base."""
    from dramatis.training.voice import build_voice_dataset

    started = time.perf_counter()
    ref, model, tokenizer = open_base(settings)
    c = Character(None, None, ref, model, tokenizer)
    data = build_voice_dataset(voice, cfg.data, c.count, c.render_chat)
    stats = {**data.stats(c.count), "voice": voice.to_json()}
    stats.pop("train_scenes", None)  # scene ids repeat across plays: not a count of scenes
    log("dataset: " + ", ".join(f"{k}={v}" for k, v in stats.items() if k != "voice"))
    return fit_and_register(settings, c, data, stats, cfg, progress, started, stage="voice")


def train_character(
    name: str,
    settings: Settings,
    cfg: TrainConfig,
    *,
    play: str | None = None,
    progress: Progress | None = None,
    log: Callable[[str], None] = print,
    voice_scale: float | None = None,
) -> AdapterVersion:
    """Train `name`'s adapter on its play and register it as a new version, made active
    when its validation perplexity is no worse than what it started from (the base, or
    the base with the voice).

    Trained stacked, as it serves: where a stage voice exists for the base, it is folded
    into the base's weights at `voice_scale` (None: the scenes' default, 1; 0: the bare
    base) before the fresh LoRA goes on, so "before" is the voice alone; the bare base's
    validation perplexity goes in metrics["ppl_bare"]."""
    from dramatis.training.trainer import mean_loss, validation

    started = time.perf_counter()
    c = open_character(name, settings, play)
    persona = c.persona
    voice = voice_under(settings, c.ref.path, voice_scale)
    data = build_dataset(c.play, persona, cfg.data, c.count, c.render_chat)
    stats = data.stats(c.count)
    log("dataset: " + ", ".join(f"{k}={v}" for k, v in stats.items()))
    metrics: dict[str, Any] = {}
    if voice is not None:
        bare = mean_loss(c.model, validation(c.tokenizer, data, cfg))
        metrics["ppl_bare"] = math.exp(bare)
        fold_voice(c, voice)
        log(
            f"on stage voice {voice.name} at scale {voice.scale:g} (folded into the base); "
            f"bare base validation perplexity {metrics['ppl_bare']:.2f}"
        )
    return fit_and_register(
        settings, c, data, stats, cfg, progress, started, who=(persona.name, persona.play),
        voice=voice, metrics=metrics,
    )  # fmt: skip


def fit_and_register(
    settings: Settings,
    c: Character,
    data: Dataset,
    stats: dict,
    cfg: TrainConfig,
    progress: Progress | None,
    started: float,
    *,
    who: tuple[str, str] | None = None,
    stage: str = "sft",
    voice: VoiceUnder | None = None,
    metrics: dict[str, Any] | None = None,
) -> AdapterVersion:
    """Train a LoRA on `data` and register it with its figures (for `who`, (character,
    play); default: the dataset's own), active when it validates no worse than the base."""
    result = train(c.model, c.tokenizer, data, cfg, progress)  # the budget: training only
    character, play = who or (data.character, data.play)
    meta = AdapterMeta(
        character=character,
        play=play,
        base_model=c.ref.name,
        base_sha256=c.ref.sha256,
        data_sha256=data_sha256(data),
        config=cfg.to_json(),
        data=stats,
        val_loss_before=result.val_loss_before,
        val_loss_after=result.val_loss_after,
        ppl_before=result.ppl_before,
        ppl_after=result.ppl_after,
        steps=result.steps,
        seconds=round(result.seconds, 1),
        stopped_by=result.stopped_by,
        stage=stage,
        metrics=metrics or {},
        voice=voice.to_json() if voice else None,
    )
    return register(settings, result.model, meta, c.model.config)


def register(settings: Settings, model, meta: AdapterMeta, base_config) -> AdapterVersion:
    """Save `model`'s adapter and add it as the next version; active when `better`.
    An adapter that trained no step is the base with a zero LoRA: never registered."""
    if meta.steps < 1:
        raise DramatisError(untrained_message(meta))
    registry = registry_for(settings)
    registry.root.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=".staging-", dir=registry.root))
    save_adapter(model, meta, staged, base_config)
    # A version that validates worse than the base is kept but not made active.
    return registry.add(staged, meta, activate=better(meta))


def train_character_dpo(
    name: str,
    settings: Settings,
    cfg: DPOTrainConfig,
    *,
    play: str | None = None,
    progress: Progress | None = None,
    log: Callable[[str], None] = print,
) -> AdapterVersion:
    """DPO on `name`'s active adapter (a fresh LoRA when it has none), registered as a new
    version (stage "dpo", parent: the version it started from), made active when the
    chosen lines' validation perplexity is no worse than the start's.

    The split is the start's own (its seed and validation share), so no scene it held
    out for validation is trained on here. `cfg.max_minutes` bounds the whole call."""
    started = time.perf_counter()
    from dramatis.training.dpo import fresh_adapter, load_adapter, own_reply, train_dpo
    from dramatis.training.preference import build_preferences, pairs_sha256, with_own_replies

    c = open_character(name, settings, play)
    registry = registry_for(settings)
    start = registry.for_base(c.persona.name, c.persona.play, c.ref.sha256, c.ref.name)
    data = build_dataset(c.play, c.persona, split_of(start, cfg.data), c.count, c.render_chat)
    held = start.meta.data.get("val_scenes") if start else None
    if held is not None and held != ", ".join(data.val_scenes):
        raise DramatisError(
            f"{start.name} held out scenes {held}, but its split now gives "  # type: ignore[union-attr]
            f"{', '.join(data.val_scenes)}: retrain it with `dramatis train {c.persona.name}`"
        )
    prefs = build_preferences(c.play, data, cfg.pairs)
    voice = recorded_voice(settings, c.ref.path, start.meta) if start else None
    if voice is not None:  # go on from the start where it was trained: on its voice
        fold_voice(c, voice)
    model = load_adapter(c.model, start.folder) if start else fresh_adapter(c.model, cfg)
    if cfg.pairs.own_replies:
        reply = own_reply(model, c.tokenizer, cfg.max_target_tokens, cfg.seed)
        prefs = with_own_replies(prefs, reply, cfg.pairs.own_replies)
    stats = {**data.stats(c.count), **prefs.stats()}
    log(f"start: {start.name if start else 'a fresh LoRA'}; pairs: "
        + ", ".join(f"{k}={v}" for k, v in prefs.stats().items()))  # fmt: skip
    spent = time.perf_counter() - started  # DPO's budget covers the whole run
    if cfg.max_minutes and spent >= cfg.max_minutes * 60:
        raise DramatisError(
            f"{c.persona.name}: loading and scoring took {spent / 60:.1f} min, the whole "
            f"--minutes {cfg.max_minutes:g} budget, before the first DPO step: nothing was "
            "trained or registered; give it more --minutes"
        )
    with warnings.catch_warnings():  # peft asks transformers a deprecated question
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
        result = train_dpo(model, c.tokenizer, prefs, cfg, progress, started=started)
    meta = AdapterMeta(
        character=c.persona.name,
        play=c.persona.play,
        base_model=c.ref.name,
        base_sha256=c.ref.sha256,
        data_sha256=pairs_sha256(prefs),
        config=cfg.to_json(),
        data=stats,
        val_loss_before=result.before.val_loss,
        val_loss_after=result.after.val_loss,
        ppl_before=result.before.ppl,
        ppl_after=result.after.ppl,
        steps=result.steps,
        seconds=result.seconds,
        stopped_by=result.stopped_by,
        stage="dpo",
        parent=start.version if start else None,
        voice=voice.to_json() if voice else None,
        metrics={
            "beta": cfg.beta,
            "val_pairs": result.val_pairs,
            "accuracy_before": result.before.accuracy,
            "accuracy_after": result.after.accuracy,
            "dpo_loss_after": result.dpo_loss_after,
            "dpo_accuracy_after": result.dpo_accuracy_after,
            "losses": result.losses,
        },
    )
    return register(settings, result.model, meta, c.model.config)


def split_of(start: AdapterVersion | None, data: DataConfig) -> DataConfig:
    """`data` with the split (seed, validation share, shortest target) and prompt format
    of the version DPO starts from, so both stages hold out the same scenes."""
    if start is None:
        return data
    theirs = start.meta.config.get("data", {})
    keep = ("seed", "val_fraction", "min_words", "prompt_format")
    return replace(data, **{k: theirs[k] for k in keep if k in theirs})


def better(meta: AdapterMeta) -> bool:
    """Whether the adapter's validation perplexity is no worse than the base's."""
    if meta.ppl_before is None or meta.ppl_after is None:
        return True
    return meta.ppl_after <= meta.ppl_before


def untrained_message(meta: AdapterMeta) -> str:
    """The one line for a run that ended before its first optimizer step."""
    return (
        f"{meta.character} ({meta.play}): the run ended before its first training step "
        f"({meta.stopped_by}), so no adapter was registered: give it more --minutes, or "
        "--steps N with no --minutes"
    )


@dataclass
class Score:
    """Validation perplexity of one version's own held-out pairs, three ways."""

    bare: float | None  # the bare base (None: not scored, baselines=False)
    voice: float | None  # the stage voice alone (None: scored without one, or not scored)
    adapter: float  # the version, on the voice when there is one
    voice_scale: float
    same_pairs: bool  # the pairs rebuilt are those it was trained on (same data hash)


def score_version(
    settings: Settings, version: AdapterVersion, voice_scale: float | None, baselines: bool = True
) -> Score:
    """Score `version` on its own validation pairs (its split, rebuilt) served on the
    stage voice at `voice_scale` (None: 1 where a voice exists; 0: on the bare base),
    whatever voice it was trained on: the bare base, the voice alone, then the voice with
    the version stacked on it (peft, the voice folded into the base as it trains).
    `baselines=False` scores the last alone (bare and voice come back as None): one pass
    over the pairs instead of three."""
    import dataclasses

    from peft import PeftModel

    from dramatis.training.trainer import mean_loss, validation

    m = version.meta
    c = open_character(m.character, settings, m.play)
    if c.ref.sha256 != m.base_sha256:
        raise DramatisError(
            f"{version.name} was trained on {m.base_model}, not on {c.ref.name}: "
            "score it with --model set to its base"
        )
    known = {f.name for f in dataclasses.fields(DataConfig)}
    data_cfg = DataConfig(**{k: v for k, v in m.config.get("data", {}).items() if k in known})
    cfg = replace(
        TrainConfig(data=data_cfg),
        **{k: m.config[k] for k in ("val_examples", "max_target_tokens") if k in m.config},
    )
    data = build_dataset(c.play, c.persona, data_cfg, c.count, c.render_chat)
    val = validation(c.tokenizer, data, cfg)
    bare = math.exp(mean_loss(c.model, val)) if baselines else None
    voice = voice_under(settings, c.ref.path, voice_scale)
    alone = None
    if voice is not None:
        fold_voice(c, voice)
        alone = math.exp(mean_loss(c.model, val)) if baselines else None
    with warnings.catch_warnings():  # peft asks transformers a deprecated question
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
        stacked = PeftModel.from_pretrained(c.model, str(version.folder)).eval()
    return Score(
        bare, alone, math.exp(mean_loss(stacked, val)),
        voice.scale if voice else 0.0, data_sha256(data) == m.data_sha256,
    )  # fmt: skip
