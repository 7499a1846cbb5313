"""The base model for training: the same GGUF file llama.cpp serves, opened by transformers.

transformers dequantizes the GGUF to fp32 (~20-45 s on two cores), so the first load
saves a plain fp32 copy (safetensors) under the cache folder, keyed by the file's
sha256; later loads read that copy in a few seconds. The sha256 also names the base
an adapter was trained on, so the registry can refuse an adapter for another base.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dramatis.core.errors import DramatisError


@dataclass(frozen=True)
class BaseModelRef:
    """Which base model: the GGUF file and its content hash."""

    path: Path
    sha256: str

    @property
    def name(self) -> str:
        return self.path.name


def file_sha256(path: Path, cache_dir: Path | None = None) -> str:
    """sha256 of a file, remembered per (path, size, mtime) under `cache_dir`."""
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    memo = cache_dir / "sha256.json" if cache_dir else None
    known: dict[str, str] = {}
    if memo and memo.is_file():
        known = json.loads(memo.read_text())
        if key in known:
            return known[key]
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    if memo:
        memo.parent.mkdir(parents=True, exist_ok=True)
        known[key] = digest.hexdigest()
        memo.write_text(json.dumps(known, indent=1))
    return digest.hexdigest()


def base_ref(gguf: Path, cache_dir: Path | None = None) -> BaseModelRef:
    if not gguf.is_file():
        raise DramatisError(f"base model file not found: {gguf} (pass --model with a .gguf path)")
    return BaseModelRef(gguf, file_sha256(gguf, cache_dir))


def converted_dir(ref: BaseModelRef, cache_dir: Path) -> Path:
    """Where the fp32 copy of `ref` lives: cache/hf/<stem>-<sha12>."""
    return cache_dir / "hf" / f"{ref.path.stem}-{ref.sha256[:12]}"


def _convert(ref: BaseModelRef, target: Path) -> None:
    """Dequantize the GGUF once and save model + tokenizer as safetensors/json."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(ref.path.parent), ref.path.name
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    except (ValueError, KeyError, OSError) as err:
        raise DramatisError(f"transformers cannot open {ref.path} for training ({err})") from err
    # A GGUF-loaded model refuses save_pretrained while it still looks quantized.
    model.hf_quantizer = None  # type: ignore[assignment]  # transformers types these loosely
    model.is_quantized = False  # type: ignore[assignment]
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config

    def write(folder: Path) -> None:
        model.save_pretrained(folder, safe_serialization=True)
        tokenizer.save_pretrained(folder)
        (folder / "dramatis_base.json").write_text(
            json.dumps({"gguf": str(ref.path), "sha256": ref.sha256})
        )

    publish(target, write, done="dramatis_base.json")


def publish(target: Path, write: Callable[[Path], None], *, done: str) -> None:
    """Fill a folder of this process's own with `write`, then rename it to `target`.
    Two processes that convert at once each write their own copy; the first to finish
    is kept (a `target` holding `done` is complete), the other copy is dropped."""
    tmp = Path(tempfile.mkdtemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent))
    try:
        write(tmp)
        try:
            tmp.rename(target)
        except OSError:
            if not (target / done).is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load_base(ref: BaseModelRef, cache_dir: Path) -> tuple[Any, Any]:
    """(fp32 causal LM in eval mode, tokenizer) for the GGUF base `ref`."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target = converted_dir(ref, cache_dir)
    if not (target / "dramatis_base.json").is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        _convert(ref, target)
    tokenizer = AutoTokenizer.from_pretrained(str(target))
    model = AutoModelForCausalLM.from_pretrained(
        str(target), dtype=torch.float32, use_safetensors=True
    )
    model.eval()
    return model, tokenizer
