"""Fold the stage voice into a character's adapter: one LoRA that applies exactly what the
stacked pair applies, for servers that take one adapter per request (vLLM).

For each adapted weight W, llama.cpp's stack gives W + s1·B1·A1 + s2·B2·A2, where each
s = (scale asked) x alpha / r. Stacking the factors gives one adapter of rank r1 + r2:

    A = [A1; A2]            (r1 + r2 rows of n_in)
    B = [s1·B1, s2·B2]      (n_out rows of r1 + r2)
    alpha = r1 + r2         (so alpha / r = 1 and B·A = s1·B1·A1 + s2·B2·A2, exactly)

A weight that only one of the two adapts gets zero rows and columns for the other.

llama.cpp computes a LoRA with its activations rounded to f16, and 18 layers amplify
the rounding: the same pair stacked in the other order already moves Gemma's logits by
~0.2 on average (a random adapter of the size tests use). The folded adapter sits within
that noise of the stacked pair (tests/test_fold.py).
Tensors here are GGUF LoRA tensors by name ("blk.3.attn_q.weight.lora_a": [r, n_in],
"...lora_b": [n_out, r]), read from and written to GGUF files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dramatis.core.errors import DramatisError

# peft module -> llama.cpp tensor name (the GGUF LoRA's keys; training/export.py)
GGUF_NAMES = {
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}
# transformers model_type -> (GGUF architecture, q/k rows permuted)
ARCHITECTURES = {"llama": ("llama", True), "gemma3_text": ("gemma3", False)}


@dataclass
class Lora:
    """A LoRA as GGUF holds it: tensors by name, alpha, and the base's architecture."""

    tensors: dict[str, np.ndarray]
    alpha: float
    arch: str

    def rank(self) -> int:
        """The rank of its first lora_a (every module shares one rank here)."""
        first = next(k for k in sorted(self.tensors) if k.endswith(".lora_a"))
        return int(self.tensors[first].shape[0])

    def weights(self) -> list[str]:
        """Adapted weights: "blk.3.attn_q.weight" for each lora_a/lora_b pair."""
        return sorted({k.rsplit(".", 1)[0] for k in self.tensors})


def fold(first: Lora, s1: float, second: Lora, s2: float) -> Lora:
    """One adapter equal to `first` at scale `s1` stacked with `second` at `s2`."""
    if first.arch != second.arch:
        raise DramatisError(
            f"cannot fold a {first.arch} adapter with a {second.arch} one: they adapt different bases"
        )
    r1, r2 = first.rank(), second.rank()
    k1, k2 = s1 * first.alpha / r1, s2 * second.alpha / r2
    out: dict[str, np.ndarray] = {}
    for w in sorted(set(first.weights()) | set(second.weights())):
        a1, b1 = _pair(first, w, r1, second)
        a2, b2 = _pair(second, w, r2, first)
        out[f"{w}.lora_a"] = np.concatenate([a1, a2], axis=0)
        out[f"{w}.lora_b"] = np.concatenate([k1 * b1, k2 * b2], axis=1)
    return Lora(out, float(r1 + r2), first.arch)


def _pair(lora: Lora, weight: str, r: int, other: Lora) -> tuple[np.ndarray, np.ndarray]:
    """(A, B) of `weight` in `lora` (float32), or zeros shaped from `other`'s pair."""
    if f"{weight}.lora_a" in lora.tensors:
        a = lora.tensors[f"{weight}.lora_a"].astype(np.float32)
        b = lora.tensors[f"{weight}.lora_b"].astype(np.float32)
        return a, b
    n_in = other.tensors[f"{weight}.lora_a"].shape[1]
    n_out = other.tensors[f"{weight}.lora_b"].shape[0]
    return np.zeros((r, n_in), np.float32), np.zeros((n_out, r), np.float32)


def read_gguf_lora(path: Path) -> Lora:
    """A GGUF LoRA file's tensors (dequantized to float32), alpha and architecture."""
    import gguf

    try:
        reader = gguf.GGUFReader(str(path))
    except (OSError, ValueError) as exc:
        raise DramatisError(f"{path}: not a readable GGUF LoRA ({exc})") from exc
    fields = reader.fields
    if "adapter.lora.alpha" not in fields or "general.architecture" not in fields:
        raise DramatisError(f"{path}: not a GGUF LoRA adapter (no adapter.lora.alpha)")
    alpha = float(fields["adapter.lora.alpha"].parts[-1][0])
    arch_field = fields["general.architecture"]
    arch = bytes(arch_field.parts[arch_field.data[0]]).decode()
    tensors = {}
    for t in reader.tensors:
        data = np.asarray(t.data)
        if t.tensor_type not in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16):
            data = gguf.quants.dequantize(data, t.tensor_type)
        shape = tuple(int(n) for n in reversed(t.shape))  # GGUF lists dims innermost first
        tensors[t.name] = data.astype(np.float32).reshape(shape)
    return Lora(tensors, alpha, arch)


def write_gguf_lora(
    lora: Lora, out: Path, metadata: dict[str, str] | None = None, dtype: str = "f16"
) -> Path:
    """Write `lora` as a GGUF LoRA llama.cpp loads: "f16" or "f32" tensors, or "q8_0"
    (lora_a, rows of n_in, a multiple of 32, in 8 bits; the rest f16)."""
    import gguf

    writer = gguf.GGUFWriter(str(out), arch=lora.arch)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(lora.alpha))
    for key, value in (metadata or {}).items():
        writer.add_string(f"dramatis.{key}", str(value))
    for name in sorted(lora.tensors):
        w = np.ascontiguousarray(lora.tensors[name], dtype=np.float32)
        if dtype == "q8_0" and name.endswith(".lora_a") and w.shape[-1] % 32 == 0:
            kind = gguf.GGMLQuantizationType.Q8_0
            writer.add_tensor(name, gguf.quants.quantize(w, kind), raw_dtype=kind)
        else:
            writer.add_tensor(name, w.astype(np.float32 if dtype == "f32" else np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out


def unpermute_rows(w: np.ndarray, n_head: int) -> np.ndarray:
    """The inverse of export.permute_rows: llama.cpp's rotary row order back to transformers'."""
    return (
        w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:])
        .swapaxes(1, 2)
        .reshape(w.shape)
    )


def peft_state(lora: Lora, n_head: int, n_kv_head: int) -> dict[str, np.ndarray]:
    """`lora` as a peft state dict (the names and row order transformers uses), for servers
    that load peft folders (vLLM `--lora-modules`).

    "blk.3.attn_q.weight.lora_b" -> "base_model.model.model.layers.3.self_attn.q_proj.lora_B.weight"
    """
    permuted = dict(ARCHITECTURES.values()).get(lora.arch, False)
    module_of = {v: k for k, v in GGUF_NAMES.items()}
    out: dict[str, np.ndarray] = {}
    for name, w in lora.tensors.items():
        _, layer, kind, _, ab = name.split(".")
        module = module_of[kind]
        if permuted and ab == "lora_b" and kind in ("attn_q", "attn_k"):
            w = unpermute_rows(w, n_head if kind == "attn_q" else n_kv_head)
        key = f"base_model.model.model.layers.{layer}.{module}.lora_{ab[-1].upper()}.weight"
        out[key] = np.ascontiguousarray(w, dtype=np.float32)
    return out


def write_peft(lora: Lora, folder: Path, n_head: int, n_kv_head: int, base: str) -> Path:
    """A peft adapter folder (adapter_model.safetensors + adapter_config.json) for `lora`."""
    import json

    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    state = peft_state(lora, n_head, n_kv_head)
    save_file(state, str(folder / "adapter_model.safetensors"))
    modules = sorted({k.split(".")[-3] for k in state})
    config = {
        "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": lora.rank(), "lora_alpha": lora.alpha,
        "target_modules": modules, "lora_dropout": 0.0, "bias": "none",
        "base_model_name_or_path": base,
    }  # fmt: skip
    (folder / "adapter_config.json").write_text(json.dumps(config, indent=1) + "\n")
    return folder


def voice_lora(settings, model_path: Path) -> tuple[Lora, str]:
    """(the stage voice for this base, its label): one trained here, else the shipped one."""
    from dramatis.training.serving import SHIPPED, find_stage_voice

    voice = find_stage_voice(settings, model_path)
    if voice is None:
        raise DramatisError(
            f"no stage voice for {model_path.name} to fold in: export with --no-fold-voice, "
            "or train one with `dramatis train --stage-voice`"
        )
    label = "the shipped stage voice" if voice.name.endswith(f"@{SHIPPED}") else voice.name
    return read_gguf_lora(voice.gguf), label


def base_heads(model_path: Path) -> tuple[int, int]:
    """(attention heads, key/value heads) from a GGUF base's metadata."""
    import gguf

    fields = gguf.GGUFReader(str(model_path)).fields
    arch_field = fields["general.architecture"]
    arch = bytes(arch_field.parts[arch_field.data[0]]).decode()

    def number(key: str) -> int:
        return int(fields[f"{arch}.{key}"].parts[-1][0])

    return number("attention.head_count"), number("attention.head_count_kv")


def fold_into_model(model, lora: Lora, scale: float) -> list[str]:
    """Add `lora` at `scale` to a transformers causal LM's weights, in place: for each
    weight it adapts, W += scale · alpha / r · B·A (computed in float32, added in W's
    dtype), with llama's q/k rows put back in transformers' order. The model then computes
    what llama.cpp computes with the adapter set at `scale` (up to llama.cpp's f16
    rounding). Returns the modules changed ("model.layers.3.self_attn.q_proj").

    A module the model does not have, or of another shape, is a DramatisError: the
    adapter was made for another base."""
    import torch

    config = model.config
    state = peft_state(lora, config.num_attention_heads, config.num_key_value_heads)
    prefix = "base_model.model."
    modules = sorted({k[len(prefix) :].rsplit(".lora_", 1)[0] for k in state})
    changed: list[tuple[Any, torch.Tensor]] = []
    for name in modules:  # check every module before changing any
        a = torch.from_numpy(state[f"{prefix}{name}.lora_A.weight"])
        b = torch.from_numpy(state[f"{prefix}{name}.lora_B.weight"])
        try:
            weight = model.get_submodule(name).weight
        except AttributeError:
            weight = None
        if weight is None or tuple(weight.shape) != (b.shape[0], a.shape[1]):
            raise DramatisError(
                f"the {lora.arch} adapter adapts {name}, which this {config.model_type} base "
                "lacks or shapes otherwise: it was made for another base model"
            )
        changed.append((weight, (scale * lora.alpha / a.shape[0]) * (b @ a)))
    with torch.no_grad():
        for weight, delta in changed:
            weight.add_(delta.to(weight.dtype))
    return modules
