"""Lore: a play's speeches in the vector store, with who spoke, where in the play, and
who was on stage to hear it. Batched encoding, a progress callback, and a second index
of the same play that costs nothing (embedding cache + a batch key in the payloads)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from dramatis.memory.clock import scene_clock
from dramatis.memory.embed import Embedder, batch_key
from dramatis.memory.importance import importance
from dramatis.memory.mirror import Where
from dramatis.memory.news import heard_by
from dramatis.memory.store import point_id
from dramatis.memory.stores import Store
from dramatis.personas.model import Play, Speech

# In every payload's batch key: a store indexed under another format is indexed again
# (from the embedding cache, so in seconds). 2: `on_stage` leaves out who exits mid-speech.
LORE_FORMAT = "lore-2"


@dataclass(frozen=True)
class IndexReport:
    play: str
    speeches: int
    seconds: float
    encoded: bool  # False: vectors came from the cache
    skipped: bool  # True: the store already held exactly this play


def speech_text(s: Speech) -> str:
    """The text embedded and recalled for a speech: its lines on one line."""
    return " ".join(s.text.split())


def lore_payload(play: Play, s: Speech, batch: str) -> dict:
    return {
        "kind": "lore",
        "play": play.key,
        "speaker": s.speaker,
        "act": s.act,
        "scene": s.scene,
        "clock": scene_clock(s.act, s.scene),
        "index": s.index,
        "on_stage": sorted(set(heard_by(s)) | set(s.speakers)),  # presence per line
        "text": speech_text(s),
        "importance": importance(s.text),
        "batch": batch,
    }


def already_indexed(store: Store, play: str, n: int, batch: str) -> bool:
    where = Where(equals=(("play", play),))
    if store.count("lore", where) != n:
        return False
    return all(p.get("batch") == batch for p in store.payloads("lore", where, limit=1))


def index_play(
    store: Store,
    embedder: Embedder,
    play: Play,
    progress: Callable[[int], None] | None = None,
    speeches: list[Speech] | None = None,
) -> IndexReport:
    """Put a play's speeches (or the given subset) into the lore collection."""
    start = time.perf_counter()
    chosen = play.speeches() if speeches is None else speeches
    texts = [speech_text(s) for s in chosen]
    batch = f"{batch_key(texts)}/{LORE_FORMAT}"
    if already_indexed(store, play.key, len(chosen), batch):
        if progress is not None:
            progress(len(chosen))
        return IndexReport(play.key, len(chosen), time.perf_counter() - start, False, True)
    vectors, cached = embedder.encode_cached(texts, progress)
    ids = [point_id(play.key, s.index) for s in chosen]
    store.upsert("lore", ids, vectors, [lore_payload(play, s, batch) for s in chosen])
    return IndexReport(play.key, len(chosen), time.perf_counter() - start, not cached, False)
