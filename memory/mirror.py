"""An exact in-process copy of a collection for fast filtered search in local mode.

qdrant-client's local mode evaluates payload filters in Python, point by point (about
260 ms for a filtered top-20 at 20k points here); this mirror answers the same query
with numpy masks and one matrix product (a few ms). Writes still go to qdrant, which
stays the store of record; a differential test checks both give the same hits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Where:
    """A payload filter both qdrant and the mirror understand: every part must hold."""

    equals: tuple[tuple[str, str | int], ...] = ()  # field == value
    contains: tuple[tuple[str, str], ...] = ()  # list field holds value
    below: tuple[tuple[str, int], ...] = ()  # int field < value


@dataclass(frozen=True)
class Hit:
    id: str
    score: float  # cosine similarity
    payload: dict


class Mirror:
    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.ids: list[str] = []
        self.rows: dict[str, int] = {}
        self.vectors = np.zeros((0, dim), dtype=np.float32)
        self.payloads: list[dict] = []
        self._masks: dict[tuple, np.ndarray] = {}  # filter masks and witness subsets

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, ids: list[str], vectors: np.ndarray, payloads: list[dict]) -> None:
        """Insert or replace points (same semantics as a qdrant upsert)."""
        new = []
        for i, pid in enumerate(ids):
            if pid in self.rows:
                row = self.rows[pid]
                self.vectors[row] = vectors[i]
                self.payloads[row] = payloads[i]
            else:
                new.append(i)
        for i in new:
            self.rows[ids[i]] = len(self.ids)
            self.ids.append(ids[i])
            self.payloads.append(payloads[i])
        if new:
            self.vectors = np.vstack([self.vectors, vectors[new].astype(np.float32)])
        self._masks.clear()

    def remove(self, ids: list[str]) -> None:
        """Delete points by id (ids not held are ignored), as a qdrant delete does."""
        gone = {self.rows[i] for i in ids if i in self.rows}
        if not gone:
            return
        keep = [r for r in range(len(self.ids)) if r not in gone]
        self.ids = [self.ids[r] for r in keep]
        self.payloads = [self.payloads[r] for r in keep]
        self.vectors = self.vectors[keep]
        self.rows = {pid: row for row, pid in enumerate(self.ids)}
        self._masks.clear()

    def _mask(self, kind: str, field: str, value: object) -> np.ndarray:
        key = (kind, field, value)
        if key not in self._masks:
            if kind == "eq":
                hits = [p.get(field) == value for p in self.payloads]
            elif kind == "in":
                hits = [value in (p.get(field) or ()) for p in self.payloads]
            else:
                hits = [p.get(field, value) < value for p in self.payloads]  # type: ignore[operator]
            self._masks[key] = np.array(hits, dtype=bool)
        return self._masks[key]

    def _subset(self, field: str, value: str) -> tuple[np.ndarray, np.ndarray]:
        """(rows, their vectors) of the points whose list `field` holds `value`: a
        character's witnessed points, copied once so a query multiplies only those."""
        key = ("subset", field, value)
        if key not in self._masks:
            rows = np.flatnonzero(self._mask("in", field, value))
            self._masks[key] = rows
            self._masks[("vectors", field, value)] = self.vectors[rows]
        return self._masks[key], self._masks[("vectors", field, value)]

    def search(self, vector: np.ndarray, where: Where, limit: int) -> list[Hit]:
        """Top `limit` points by cosine similarity among those `where` admits."""
        if where.contains:  # start from the first list condition's subset (the witness)
            rows, vectors = self._subset(*where.contains[0])
        else:
            rows, vectors = np.arange(len(self.ids)), self.vectors
        mask = np.ones(len(self.ids), dtype=bool)
        for field, value in where.equals:
            mask &= self._mask("eq", field, value)
        for field, value in where.contains[1:]:
            mask &= self._mask("in", field, value)
        for field, bound in where.below:
            mask &= self._mask("lt", field, bound)
        keep = mask[rows]  # (len(rows),)
        if not keep.any():
            return []
        # einsum, not `@`: a matrix-vector product goes to OpenBLAS, which spreads it over
        # every core and, on busy cores, waits for them (20k points, load 9 on two cores:
        # 8 ms of CPU and 32 ms wall, against 1 ms and 3 ms single-threaded here)
        scores = np.einsum("ij,j->i", vectors, vector.astype(np.float32))  # (len(rows),)
        scores = np.where(keep, scores, -np.inf)
        n = min(limit, int(keep.sum()))
        top = np.argpartition(-scores, n - 1)[:n] if n < len(scores) else np.arange(len(scores))
        top = top[np.argsort(-scores[top], kind="stable")][:n]
        return [Hit(self.ids[rows[t]], float(scores[t]), self.payloads[rows[t]]) for t in top]
