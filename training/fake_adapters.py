"""Random LoRA adapters for SmolLM2-135M or Gemma 3 270M, for tests and benchmarks (never trained, never
a default): like agents/fake_backend.py, a stand-in that lives beside the real thing.

peft starts B at zero, so a fresh adapter changes nothing; these draw B at random too,
so each visibly changes the model's output and two seeds give two different voices.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dramatis.training.export import export_gguf


@dataclass(frozen=True)
class Shape:
    """What a LoRA's tensor shapes depend on."""

    model_type: str  # transformers' name, as fold.ARCHITECTURES keys it
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    ffn: int

    def dims(self) -> dict[str, tuple[int, int]]:
        """module -> (n_in, n_out)"""
        q, kv = self.heads * self.head_dim, self.kv_heads * self.head_dim
        return {
            "self_attn.q_proj": (self.hidden, q),
            "self_attn.k_proj": (self.hidden, kv),
            "self_attn.v_proj": (self.hidden, kv),
            "self_attn.o_proj": (q, self.hidden),
            "mlp.gate_proj": (self.hidden, self.ffn),
            "mlp.up_proj": (self.hidden, self.ffn),
            "mlp.down_proj": (self.ffn, self.hidden),
        }


SMOLLM2 = Shape("llama", layers=30, hidden=576, heads=9, kv_heads=3, head_dim=64, ffn=1536)
GEMMA3_270M = Shape(
    "gemma3_text", layers=18, hidden=640, heads=4, kv_heads=1, head_dim=256, ffn=2048
)


def random_adapter(
    folder: Path,
    seed: int,
    *,
    r: int = 8,
    std_b: float = 0.05,
    dtype: str = "f16",
    shape: Shape = SMOLLM2,
) -> Path:
    """A peft folder + GGUF LoRA for `shape`'s model with random A and non-zero random B
    (peft starts B at zero), so it visibly changes outputs: for tests and benchmarks."""
    from peft import LoraConfig
    from safetensors.numpy import save_file

    rng = np.random.default_rng(seed)
    dims = shape.dims()
    state = {}
    for layer in range(shape.layers):
        for module, (n_in, n_out) in dims.items():
            key = f"base_model.model.model.layers.{layer}.{module}"
            a = rng.normal(0, 1 / np.sqrt(n_in), (r, n_in))
            state[f"{key}.lora_A.weight"] = a.astype(np.float32)
            state[f"{key}.lora_B.weight"] = rng.normal(0, std_b, (n_out, r)).astype(np.float32)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(state, str(folder / "adapter_model.safetensors"))
    targets = [m.split(".")[-1] for m in dims]
    LoraConfig(
        r=r, lora_alpha=2 * r, target_modules=targets, task_type="CAUSAL_LM"
    ).save_pretrained(str(folder))
    export_gguf(
        folder,
        folder / "adapter.gguf",
        n_head=shape.heads,
        n_kv_head=shape.kv_heads,
        dtype=dtype,
        model_type=shape.model_type,
    )
    return folder
