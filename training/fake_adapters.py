"""Random LoRA adapters for SmolLM2-135M, for tests and benchmarks (never trained, never
a default): like agents/fake_backend.py, a stand-in that lives beside the real thing.

peft starts B at zero, so a fresh adapter changes nothing; these draw B at random too,
so each visibly changes the model's output and two seeds give two different voices.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dramatis.training.export import export_gguf

# SmolLM2-135M projection sizes (n_in, n_out); 30 layers, 9 heads, 3 key/value heads.
SMOLLM2_DIMS = {
    "self_attn.q_proj": (576, 576),
    "self_attn.k_proj": (576, 192),
    "self_attn.v_proj": (576, 192),
    "self_attn.o_proj": (576, 576),
    "mlp.gate_proj": (576, 1536),
    "mlp.up_proj": (576, 1536),
    "mlp.down_proj": (1536, 576),
}


def random_adapter(
    folder: Path, seed: int, *, r: int = 8, std_b: float = 0.05, dtype: str = "f16"
) -> Path:
    """A peft folder + GGUF LoRA for SmolLM2-135M with random A and non-zero random B
    (peft starts B at zero), so it visibly changes outputs: for tests and benchmarks."""
    from peft import LoraConfig
    from safetensors.numpy import save_file

    rng = np.random.default_rng(seed)
    state = {}
    for layer in range(30):
        for module, (n_in, n_out) in SMOLLM2_DIMS.items():
            key = f"base_model.model.model.layers.{layer}.{module}"
            a = rng.normal(0, 1 / np.sqrt(n_in), (r, n_in))
            state[f"{key}.lora_A.weight"] = a.astype(np.float32)
            state[f"{key}.lora_B.weight"] = rng.normal(0, std_b, (n_out, r)).astype(np.float32)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(state, str(folder / "adapter_model.safetensors"))
    targets = [m.split(".")[-1] for m in SMOLLM2_DIMS]
    LoraConfig(
        r=r, lora_alpha=2 * r, target_modules=targets, task_type="CAUSAL_LM"
    ).save_pretrained(str(folder))
    export_gguf(folder, folder / "adapter.gguf", n_head=9, n_kv_head=3, dtype=dtype)
    return folder
