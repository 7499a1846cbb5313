"""VectorStore: the two qdrant collections (lore, episodic) behind one setting.

`where` is a folder (qdrant local mode, the default), an http(s) URL (a Qdrant server)
or ":memory:" (tests). Every mode goes through the same QdrantClient calls; local and
in-memory modes also keep an exact numpy mirror for filtered search (mirror.py).

A store carries a version stamp. Local folders hold pickled rows (qdrant's local
format), so a folder is opened only when its stamp file says this tool made it.
"""

from __future__ import annotations

import atexit
import uuid
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from dramatis.core.errors import DramatisError
from dramatis.memory.embed import DIM
from dramatis.memory.mirror import Hit, Mirror, Where
from dramatis.memory.stamp import STAMP, new_stamp, read_stamp, store_is_empty

COLLECTIONS = ("lore", "episodic")
# Payload indexes (used by a Qdrant server; local mode ignores them).
INDEXES = {
    "lore": {
        "play": "keyword",
        "speaker": "keyword",
        "on_stage": "keyword",
        "act": "integer",
        "scene": "integer",
        "clock": "integer",
    },
    "episodic": {
        "thread": "keyword",
        "speaker": "keyword",
        "witnesses": "keyword",
        "turn": "integer",
    },
}
_ID_SPACE = uuid.UUID("5b0c5d3e-7a0e-4d1b-9a52-6c1f0d2e8a11")


def point_id(*parts: object) -> str:
    """A stable point id: point_id("hamlet", 12) is the same in every process."""
    return str(uuid.uuid5(_ID_SPACE, ":".join(str(p) for p in parts)))


def is_url(where: str) -> bool:
    return where.startswith(("http://", "https://"))


def check_stamp(folder: Path) -> None:
    """Refuse a folder this tool did not make, or made by another store version."""
    if not store_is_empty(folder):
        read_stamp(folder)


def _client(where: str) -> Any:
    from qdrant_client import QdrantClient

    if where == ":memory:":
        return QdrantClient(location=":memory:")
    if is_url(where):
        with warnings.catch_warnings():  # an unreachable server is our one-line error
            warnings.filterwarnings("ignore", message="Failed to obtain server version")
            return QdrantClient(url=where)
    folder = Path(where).expanduser()
    check_stamp(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DramatisError(
            f"{folder}: cannot make the memory store folder ({err.strerror or err}); "
            "point --store or DRAMATIS_MEMORY_STORE at a folder you can write"
        ) from None
    try:
        client = QdrantClient(path=str(folder))
    except RuntimeError as err:
        if "already accessed" in str(err):
            raise DramatisError(
                f"{folder} is open in another dramatis process (qdrant local mode allows "
                "one); close it, or use a Qdrant server with --store http://HOST:6333"
            ) from None
        raise _corrupt(folder, err) from None
    except Exception as err:  # qdrant raises many kinds on a damaged folder
        raise _corrupt(folder, err) from None
    stamp = folder / STAMP
    if not stamp.exists():
        stamp.write_text(new_stamp())
    return client


def _unreachable(url: str, err: Exception) -> DramatisError:
    """The one line for a --store URL where no Qdrant server answers as one."""
    from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

    if isinstance(err, ResponseHandlingException):  # nothing listening, DNS, a timeout
        why = f"no Qdrant server answers there ({' '.join(str(err).split())[:80]})"
    elif isinstance(err, UnexpectedResponse):
        why = f"the server there answers, but not as Qdrant does (HTTP {err.status_code})"
    else:
        why = f"the server there failed ({err.__class__.__name__})"
    return DramatisError(
        f"memory store {url}: {why}; start the server or fix the URL, or use a folder "
        "(--store PATH, the default)"
    )


def _corrupt(folder: Path, err: Exception) -> DramatisError:
    return DramatisError(
        f"{folder}: memory store is damaged ({err.__class__.__name__}); move it away and "
        "run `dramatis memory index PLAY` again"
    )


def qdrant_filter(where: Where) -> Any:
    """The qdrant Filter for a Where."""
    from qdrant_client import models

    must: list[Any] = [
        models.FieldCondition(key=k, match=models.MatchValue(value=v)) for k, v in where.equals
    ]
    must += [
        models.FieldCondition(key=k, match=models.MatchAny(any=[v])) for k, v in where.contains
    ]
    must += [models.FieldCondition(key=k, range=models.Range(lt=v)) for k, v in where.below]
    return models.Filter(must=must) if must else None


class VectorStore:
    def __init__(self, where: str, *, mirror: bool | None = None) -> None:
        self.where = where
        try:
            self.client = _client(where)
        except ImportError:
            raise DramatisError(
                "qdrant-client is missing: install the memory extra with "
                "`pip install -e '.[memory]'`"
            ) from None
        self.closed = False
        atexit.register(self.close)  # before interpreter teardown, when qdrant can still close
        self.use_mirror = (not is_url(where)) if mirror is None else mirror
        self.mirrors: dict[str, Mirror] = {}
        try:
            for name in COLLECTIONS:
                self._ensure(name)
        except Exception as err:
            if not is_url(where):
                raise
            self.close()
            raise _unreachable(where, err) from None

    def _ensure(self, name: str) -> None:
        from qdrant_client import models

        if not self.client.collection_exists(name):
            self.client.create_collection(
                name, vectors_config=models.VectorParams(size=DIM, distance=models.Distance.COSINE)
            )
            if is_url(self.where):  # local mode ignores payload indexes and warns
                for field, kind in INDEXES[name].items():
                    self.client.create_payload_index(name, field, kind)
        if self.use_mirror:
            self.mirrors[name] = self._load_mirror(name)

    def _load_mirror(self, name: str) -> Mirror:
        mirror = Mirror(DIM)
        offset = None
        while True:
            records, offset = self.client.scroll(
                name, limit=2048, offset=offset, with_payload=True, with_vectors=True
            )
            if records:
                vectors = np.array([r.vector for r in records], dtype=np.float32)
                mirror.add([str(r.id) for r in records], vectors, [r.payload for r in records])
            if offset is None:
                return mirror

    def upsert(self, name: str, ids: list[str], vectors: np.ndarray, payloads: list[dict]) -> None:
        from qdrant_client import models

        for start in range(0, len(ids), 512):
            end = start + 512
            points = [
                models.PointStruct(id=i, vector=v.tolist(), payload=p)
                for i, v, p in zip(
                    ids[start:end], vectors[start:end], payloads[start:end], strict=True
                )
            ]
            self.client.upsert(name, points=points, wait=True)
        if self.use_mirror:
            self.mirrors[name].add(ids, vectors, payloads)

    def delete(self, name: str, ids: list[str]) -> None:
        """Delete points by id (a retracted turn's); ids not held are ignored."""
        from qdrant_client import models

        if ids:
            selector = models.PointIdsList(points=list[int | str | uuid.UUID](ids))
            self.client.delete(name, points_selector=selector, wait=True)
        if self.use_mirror:
            self.mirrors[name].remove(ids)

    def search(self, name: str, vector: np.ndarray, where: Where, limit: int) -> list[Hit]:
        """Top `limit` points by cosine similarity among those `where` admits."""
        if self.use_mirror:
            return self.mirrors[name].search(vector, where, limit)
        found = self.client.query_points(
            name,
            query=vector.tolist(),
            query_filter=qdrant_filter(where),
            limit=limit,
            with_payload=True,
        )
        return [Hit(str(p.id), float(p.score), dict(p.payload or {})) for p in found.points]

    def payloads(self, name: str, where: Where, limit: int = 10_000) -> list[dict]:
        """Payloads of the points `where` admits (no ranking)."""
        records, _ = self.client.scroll(
            name, scroll_filter=qdrant_filter(where), limit=limit, with_payload=True
        )
        return [dict(r.payload or {}) for r in records]

    def count(self, name: str, where: Where | None = None) -> int:
        flt = qdrant_filter(where) if where else None
        return int(self.client.count(name, count_filter=flt, exact=True).count)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.client.close()
            atexit.unregister(self.close)
