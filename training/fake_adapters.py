"""Random LoRA adapters for SmolLM2-135M or Gemma 3 270M, for tests and benchmarks (never trained, never
a default): like agents/fake_backend.py, a stand-in that lives beside the real thing.

peft starts B at zero, so a fresh adapter changes nothing; these draw B at random too,
so each visibly changes the model's output and two seeds give two different voices.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dramatis.core.errors import DramatisError
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

# GGUF's general.architecture -> transformers' model type (fold.ARCHITECTURES' keys)
MODEL_TYPES = {"llama": "llama", "gemma3": "gemma3_text"}


# GGUF value types: fixed sizes in bytes and struct codes (8: string, 9: array)
_SCALARS = {
    0: "B",
    1: "b",
    2: "H",
    3: "h",
    4: "I",
    5: "i",
    6: "f",
    7: "?",
    10: "Q",
    11: "q",
    12: "d",
}


def gguf_metadata(path: Path) -> dict[str, object]:
    """The scalar and string metadata of a GGUF file (arrays such as the vocabulary are
    skipped, not read), from its header alone: a fraction of a second where the `gguf`
    package's reader takes seconds over a large vocabulary.

    gguf_metadata(gemma)["gemma3.block_count"] -> 18
    """
    import struct

    def fail(why: str) -> DramatisError:
        return DramatisError(f"{path}: not a readable GGUF file ({why})")

    try:
        f = path.open("rb")
    except OSError as err:
        raise fail(err.strerror or str(err)) from err
    with f:

        def take(code: str) -> Any:
            size = struct.calcsize("<" + code)
            raw = f.read(size)
            if len(raw) != size:
                raise fail("it ends inside its header")
            return struct.unpack("<" + code, raw)[0]

        def text() -> str:
            return f.read(take("Q")).decode("utf-8", "replace")

        def skip(kind: int) -> None:
            if kind == 8:
                f.seek(take("Q"), 1)
            elif kind == 9:
                inner, count = take("I"), take("Q")
                if inner in _SCALARS:
                    f.seek(count * struct.calcsize(_SCALARS[inner]), 1)
                else:
                    for _ in range(count):
                        skip(inner)
            elif kind in _SCALARS:
                f.seek(struct.calcsize(_SCALARS[kind]), 1)
            else:
                raise fail(f"unknown value type {kind}")

        if f.read(4) != b"GGUF":
            raise fail("no GGUF magic at its start")
        _version, _tensors, count = take("I"), take("Q"), take("Q")
        found: dict[str, object] = {}
        for _ in range(count):
            key, kind = text(), take("I")
            if kind in _SCALARS:
                found[key] = take(_SCALARS[kind])
            elif kind == 8:
                found[key] = text()
            else:
                skip(kind)
        return found


def shape_of(path: Path) -> Shape:
    """The LoRA shape of the GGUF model at `path`, read from its metadata (layers, widths,
    heads), so that random adapters fit the model actually loaded."""
    fields = gguf_metadata(path)

    def value(key: str) -> Any:
        return fields.get(key)

    arch = str(value("general.architecture"))
    if arch not in MODEL_TYPES:
        known = ", ".join(MODEL_TYPES)
        raise DramatisError(f"{path}: random adapters know the architectures {known}, not {arch!r}")
    got = {
        k: value(f"{arch}.{k}")
        for k in (
            "block_count",
            "embedding_length",
            "attention.head_count",
            "feed_forward_length",
        )
    }
    if missing := [k for k, v in got.items() if v is None]:
        raise DramatisError(f"{path}: the GGUF lacks {arch}.{missing[0]}")
    hidden, heads = int(got["embedding_length"]), int(got["attention.head_count"])
    kv_heads = value(f"{arch}.attention.head_count_kv")
    head_dim = value(f"{arch}.attention.key_length")
    return Shape(
        MODEL_TYPES[arch],
        layers=int(got["block_count"]),
        hidden=hidden,
        heads=heads,
        kv_heads=int(kv_heads) if kv_heads is not None else heads,
        head_dim=int(head_dim) if head_dim is not None else hidden // heads,
        ffn=int(got["feed_forward_length"]),
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
