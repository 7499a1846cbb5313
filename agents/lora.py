"""LoRA adapters on a llama.cpp model: loaded once, switched per speaker, base never reloaded.

llama-cpp-python 0.3.36 low-level API: `llama_adapter_lora_init(model, path)` loads a
GGUF LoRA next to the model's weights (freed with the model), and
`llama_set_adapters_lora(ctx, adapters, n, scales)` sets which ones a context applies
(n = 0: the bare base; n > 1: their deltas add up, each with its scale). A switch costs
microseconds: no weights move. One adapter can be stacked under all the others (`under`,
the shared stage voice of training/voice.py): it is applied with every character's own
adapter, and alone for a character without one.

The trap: `Llama` reuses the longest token prefix of its last evaluation, and those
keys/values were computed under whatever adapter was set then. So every change of
(adapter, scale) takes the evaluated prefix away: it is filed under the adapter it
was computed with (agents/prefix_cache.py) and the new adapter's own saved prefix,
if any, is put back. With `cache_mb=0` nothing is kept and each switch starts from
an empty context. llama-cpp-python's optional state cache (`Llama.set_cache`) keys by
tokens only, so it is switched off while adapters are in use.
"""

from __future__ import annotations

import ctypes
from pathlib import Path
from typing import Any

from dramatis.core.errors import DramatisError

M_MMAP_THRESHOLD = -3  # glibc mallopt parameter


def keep_large_buffers_off_the_heap(threshold: int = 128 * 1024) -> bool:
    """Fix glibc's mmap threshold so large blocks are always mmapped and returned on free.

    Every adapter change makes llama.cpp rebuild its graph and reallocate compute buffers.
    With glibc's default dynamic threshold, freed mmapped blocks raise the threshold and
    later ones land on the heap, which fragments: RSS grew ~10-13 MB over a few switches
    with four adapters (benchmarks/adapters.py), as much as two adapters' weights. With a
    fixed threshold the growth is ~2 MB. Process-wide; a no-op off glibc. True when set."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(M_MMAP_THRESHOLD, threshold))
    except (OSError, AttributeError):
        return False


def _meta(adapter, key: str) -> str | None:
    import llama_cpp

    buf = ctypes.create_string_buffer(256)
    n = llama_cpp.llama_adapter_meta_val_str(adapter, key.encode(), buf, len(buf))
    return buf.value.decode("utf-8", "replace") if n >= 0 else None


class LoraSet:
    """The adapters loaded on one `llama_cpp.Llama`, and which one its context applies."""

    def __init__(self, llm, *, cache_mb: float = 256.0) -> None:
        from dramatis.agents.prefix_cache import PrefixCaches

        self._llm = llm
        self.caches = PrefixCaches(llm, cache_mb)
        keep_large_buffers_off_the_heap()
        self._handles: dict[str, Any] = {}  # name -> llama_adapter_lora_p
        self.paths: dict[str, Path] = {}
        # What the context applies now: ((name, scale), ...) in order, () for the bare base.
        self.current: tuple[tuple[str, float], ...] = ()
        self.under: tuple[str, float] | None = None  # stacked under every adapter

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._handles)

    def load(self, name: str, path: str | Path, *, base_sha256: str | None = None) -> None:
        """Load the GGUF LoRA at `path` as `name` (again under the same name: a no-op)."""
        import llama_cpp

        if name in self._handles:
            return
        path = Path(path)
        if not path.is_file():
            raise DramatisError(
                f"adapter file not found: {path} (export it with `dramatis adapters list`)"
            )
        handle = llama_cpp.llama_adapter_lora_init(self._llm.model, str(path).encode())
        if not handle:
            raise DramatisError(
                f"llama.cpp refused adapter {path}: not a LoRA for this model's architecture "
                "and shapes (retrain it on this base with `dramatis train`)"
            )
        trained_on = _meta(handle, "dramatis.base_sha256")
        if base_sha256 and trained_on and trained_on != base_sha256:
            raise DramatisError(
                f"adapter {path} was trained on a base with sha256 {trained_on[:12]}, not this "
                f"model ({base_sha256[:12]}): retrain it with `dramatis train` on this model"
            )
        self._handles[name] = handle
        self.paths[name] = path

    def stack_under(self, name: str, scale: float = 1.0) -> None:
        """Apply `name` at `scale` under every adapter from the next `apply` on."""
        if name not in self._handles:
            raise DramatisError(f"adapter {name!r} is not loaded on this model")
        self.under = (name, float(scale))

    def apply(self, name: str | None, scale: float = 1.0) -> bool:
        """Make the context apply adapter `name` (None: none), over the one stacked under
        all, if any. True when that changed, in which case the evaluated prefix is filed
        under the old set and the new set's saved prefix, if any, is restored: no
        keys/values cross adapters."""
        import llama_cpp

        if name is not None and name not in self._handles:
            loaded = ", ".join(self._handles) or "none"
            raise DramatisError(f"adapter {name!r} is not loaded on this model (loaded: {loaded})")
        layers = [self.under] if self.under else []
        if name is not None and (self.under is None or name != self.under[0]):
            layers.append((name, float(scale)))
        wanted = tuple(layers)
        if wanted == self.current:
            return False
        n = len(wanted)
        arr = (llama_cpp.llama_adapter_lora_p_ctypes * max(n, 1))(
            *(self._handles[a] for a, _ in wanted)
        )
        scales = (ctypes.c_float * max(n, 1))(*(s for _, s in wanted))
        rc = llama_cpp.llama_set_adapters_lora(
            self._llm.ctx, arr if n else None, n, scales if n else None
        )
        if rc != 0:
            raise RuntimeError(f"llama_set_adapters_lora failed ({rc}) for {wanted!r}")
        # The evaluated prefix was computed under the previous set: file it there, and
        # start from the new set's own saved prefix (or an empty context).
        self.caches.switch(self.current, wanted)
        if self._llm.cache is not None:
            self._llm.set_cache(None)
        self.current = wanted
        return True
