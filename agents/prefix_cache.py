"""One evaluated prompt prefix per adapter, so a speaker switch does not cost a full prompt.

With adapters on, consecutive turns run under different LoRAs, and keys/values computed
under one adapter must never serve another (agents/lora.py). Dropping the prefix on every
switch is safe but re-evaluates the whole prompt each turn. Instead, when the context
leaves adapter A, the keys/values of sequence 0 and their tokens are copied out
(`llama_state_seq_get_data`) and filed under A; when A is set again, they are copied back
(`llama_state_seq_set_data`), and llama-cpp-python's own prefix match then reuses the part
of A's previous prompt that the new one still shares: the scene and the transcript up to
A's last turn.

A saved prefix is only ever restored under the exact (adapter, scale) it was computed
with. Memory is bounded: saved prefixes beyond `budget_mb` are dropped, least recently
used first (about 23 KB per token on SmolLM2-135M, so ~23 MB for a 1000-token prompt).
"""

from __future__ import annotations

import ctypes
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class SavedPrefix:
    tokens: np.ndarray  # the evaluated token ids, in order
    kv: Any  # ctypes uint8 array: llama.cpp's serialized sequence 0

    @property
    def nbytes(self) -> int:
        return int(ctypes.sizeof(self.kv)) + int(self.tokens.nbytes)


@dataclass
class CacheStats:
    saved: int = 0  # prefixes copied out at a switch
    restored: int = 0  # prefixes copied back in
    restored_tokens: int = 0  # tokens those restores brought back
    evicted: int = 0  # dropped for the memory budget

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


class PrefixCaches:
    """Saved sequence-0 prefixes of one `llama_cpp.Llama`, keyed by adapter."""

    def __init__(self, llm: Any, budget_mb: float = 256.0) -> None:
        self._llm = llm
        self.budget = int(budget_mb * 1024 * 1024)
        self._saved: OrderedDict[Hashable, SavedPrefix] = OrderedDict()
        self.stats = CacheStats()

    @property
    def nbytes(self) -> int:
        return sum(p.nbytes for p in self._saved.values())

    def switch(self, leaving: Hashable, entering: Hashable) -> bool:
        """At an adapter change: file the context's evaluated prefix under `leaving`, then
        empty the context and put back the prefix saved under `entering`, if any. The
        entering prefix is taken out first, so making room never evicts it. True when a
        prefix was restored."""
        wanted = self._saved.pop(entering, None)
        self._stash(leaving, reserve=wanted.nbytes if wanted else 0)
        return self._restore(wanted)

    def _stash(self, key: Hashable, reserve: int) -> None:
        import llama_cpp

        llm = self._llm
        n = int(llm.n_tokens)
        self._saved.pop(key, None)
        if self.budget <= 0 or n == 0:
            return
        size = int(llama_cpp.llama_state_seq_get_size(llm.ctx, 0))
        if size <= 0 or size + reserve > self.budget:
            return
        kv = (ctypes.c_uint8 * size)()
        written = int(llama_cpp.llama_state_seq_get_data(llm.ctx, kv, size, 0))
        if written <= 0 or written > size:
            return
        saved = SavedPrefix(tokens=np.array(llm.input_ids[:n], copy=True), kv=kv)
        while self._saved and self.nbytes + saved.nbytes + reserve > self.budget:
            self._saved.popitem(last=False)  # least recently filed first
            self.stats.evicted += 1
        self._saved[key] = saved
        self.stats.saved += 1

    def _restore(self, saved: SavedPrefix | None) -> bool:
        import llama_cpp

        llm = self._llm
        llm.reset()
        mem = llama_cpp.llama_get_memory(llm.ctx)
        llama_cpp.llama_memory_seq_rm(mem, 0, -1, -1)
        if saved is None:
            return False
        size = ctypes.sizeof(saved.kv)
        if int(llama_cpp.llama_state_seq_set_data(llm.ctx, saved.kv, size, 0)) != size:
            llama_cpp.llama_memory_seq_rm(mem, 0, -1, -1)
            return False
        n = len(saved.tokens)
        llm.input_ids[:n] = saved.tokens
        llm.n_tokens = n
        llm._requires_eval = True  # logits are stale: make generate() re-decode one token
        self.stats.restored += 1
        self.stats.restored_tokens += n
        return True
