"""One character, start to finish: play -> pairs -> LoRA -> safetensors + GGUF -> registry."""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from dramatis.core.settings import Settings
from dramatis.training.dataset import Dataset, build_dataset
from dramatis.training.registry import WEIGHTS, AdapterMeta, AdapterRegistry, AdapterVersion
from dramatis.training.trainer import Progress, TrainConfig, TrainResult, train


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


def save_adapter(result: TrainResult, meta: AdapterMeta, folder: Path, base_config) -> None:
    """peft weights as safetensors (our metadata in the header) and the GGUF export."""
    from safetensors.numpy import load_file, save_file

    from dramatis.training.export import export_gguf

    result.model.save_pretrained(str(folder), safe_serialization=True)
    weights = folder / WEIGHTS
    header = {"format": "pt", "dramatis": meta.model_dump_json()}
    save_file(load_file(str(weights)), str(weights), metadata=header)
    export_gguf(
        folder,
        folder / "adapter.gguf",
        n_head=base_config.num_attention_heads,
        n_kv_head=base_config.num_key_value_heads,
        metadata={"character": meta.character, "play": meta.play, "base_sha256": meta.base_sha256},
    )


def train_character(
    name: str,
    settings: Settings,
    cfg: TrainConfig,
    *,
    play: str | None = None,
    progress: Progress | None = None,
    log: Callable[[str], None] = print,
) -> AdapterVersion:
    """Train `name`'s adapter on its play and register it as a new version, made active
    when its validation perplexity is no worse than the base's.

    `cfg.max_minutes` bounds the whole call, not only the training loop."""
    started = time.perf_counter()
    from dramatis.agents.catalog import resolve_model
    from dramatis.agents.hf_base import base_ref, load_base
    from dramatis.personas import find_persona, load_play

    persona = find_persona(name, play)
    the_play = load_play(persona.play)
    ref = base_ref(resolve_model(settings.model, settings.cache_dir), settings.cache_dir)
    model, tokenizer = load_base(ref, settings.cache_dir)

    def count(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    def render_chat(messages) -> str:
        rows = [{"role": m.role, "content": m.content} for m in messages]
        return tokenizer.apply_chat_template(rows, tokenize=False, add_generation_prompt=True)

    data = build_dataset(the_play, persona, cfg.data, count, render_chat)
    stats = data.stats(count)
    log("dataset: " + ", ".join(f"{k}={v}" for k, v in stats.items()))
    result = train(model, tokenizer, data, cfg, progress, started=started)
    meta = AdapterMeta(
        character=persona.name,
        play=persona.play,
        base_model=ref.name,
        base_sha256=ref.sha256,
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
    )
    registry = registry_for(settings)
    registry.root.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=".staging-", dir=registry.root))
    save_adapter(result, meta, staged, model.config)
    # A version that validates worse than the base is kept but not made active.
    return registry.add(staged, meta, activate=better(meta))


def better(meta: AdapterMeta) -> bool:
    """Whether the adapter's validation perplexity is no worse than the base's."""
    if meta.ppl_before is None or meta.ppl_after is None:
        return True
    return meta.ppl_after <= meta.ppl_before
