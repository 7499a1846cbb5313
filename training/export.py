"""peft LoRA (safetensors) -> GGUF LoRA that llama.cpp applies to a llama or gemma3 base.

What llama.cpp expects (src/llama-adapter.cpp, llama.cpp of llama-cpp-python 0.3.36):
- metadata `general.type = "adapter"`, `adapter.type = "lora"`, `adapter.lora.alpha`,
  and `general.architecture` equal to the base's ("llama" for SmolLM2, "gemma3" for
  Gemma 3 270M);
- per adapted weight `blk.{i}.attn_q.weight` two tensors, `...weight.lora_a` with
  numpy shape [r, n_in] and `...weight.lora_b` with shape [n_out, r] (peft's lora_A /
  lora_B shapes as they are); llama.cpp scales B·A by alpha / r like peft does.
- q and k rows in GGUF are permuted for llama.cpp's rotary layout (convert_hf_to_gguf
  `permute`); transformers undoes that when it loads the GGUF, so peft's lora_B for
  q_proj/k_proj must be permuted back the same way (A acts on inputs: unchanged).
  Gemma's rotary layout is the same in both (llama.cpp's NEOX order), so nothing is
  permuted for it. The module names are the same in both architectures.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from dramatis.core.errors import DramatisError
from dramatis.training.fold import ARCHITECTURES, GGUF_NAMES, Lora, write_gguf_lora

# transformers module name -> GGUF tensor name, llama architecture
_KEY = re.compile(r"layers\.(\d+)\.(self_attn\.\w+|mlp\.\w+)\.lora_([AB])(?:\.\w+)?\.weight$")


def permute_rows(w: np.ndarray, n_head: int) -> np.ndarray:
    """Rows of a q/k projection from transformers' rotary order to llama.cpp's
    (convert_hf_to_gguf's `permute`): per head, [pairs interleaved] <- [halves]."""
    return (
        w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
        .swapaxes(1, 2)
        .reshape(w.shape)
    )


def gguf_name(key: str) -> tuple[str, str] | None:
    """("blk.3.attn_q.weight.lora_a", "q") for a peft key; None for anything else.

    gguf_name("base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight")
      -> ("blk.3.attn_q.weight.lora_a", "self_attn.q_proj")
    """
    hit = _KEY.search(key)
    if not hit or hit.group(2) not in GGUF_NAMES:
        return None
    layer, module, ab = hit.groups()
    return f"blk.{layer}.{GGUF_NAMES[module]}.weight.lora_{ab.lower()}", module


def architecture(model_type: str) -> tuple[str, bool]:
    """(GGUF architecture, whether q/k rows are permuted) for a transformers model_type."""
    if model_type not in ARCHITECTURES:
        known = ", ".join(sorted(ARCHITECTURES))
        raise DramatisError(
            f"cannot export a LoRA for a {model_type!r} base: adapters export for {known}"
        )
    return ARCHITECTURES[model_type]


def gguf_tensors(
    state: dict[str, np.ndarray], n_head: int, n_kv_head: int, *, permute: bool = True
) -> dict[str, np.ndarray]:
    """GGUF LoRA tensors (fp32) from a peft state dict."""
    out: dict[str, np.ndarray] = {}
    for key, value in state.items():
        named = gguf_name(key)
        if named is None:
            raise DramatisError(
                f"cannot export adapter weight {key!r}: only attention/MLP LoRA is supported"
            )
        name, module = named
        w = np.asarray(value, dtype=np.float32)
        if not permute or not name.endswith(".lora_b"):
            pass
        elif module == "self_attn.q_proj":
            w = permute_rows(w, n_head)
        elif module == "self_attn.k_proj":
            w = permute_rows(w, n_kv_head)
        out[name] = np.ascontiguousarray(w)
    return out


def export_gguf(
    adapter_dir: Path,
    out: Path,
    *,
    n_head: int,
    n_kv_head: int,
    metadata: dict[str, str] | None = None,
    dtype: str = "f16",
    model_type: str = "llama",
) -> Path:
    """Write `adapter_dir` (peft save_pretrained output) as a GGUF LoRA at `out`.

    dtype "f16" halves the size and memory of "f32"; "q8_0" stores lora_a (rows of
    n_in, a multiple of 32) in 8 bits and lora_b (rows of r) in f16: ~25% less again.
    llama.cpp computes with any of them.
    """
    from safetensors.numpy import load_file

    config = json.loads((adapter_dir / "adapter_config.json").read_text())
    state = load_file(str(adapter_dir / "adapter_model.safetensors"))
    arch, permute = architecture(model_type)
    tensors = gguf_tensors(state, n_head, n_kv_head, permute=permute)
    write_gguf_lora(Lora(tensors, float(config["lora_alpha"]), arch), out, metadata, dtype)
    return out
