"""Retrieval accuracy beside trivial baselines, and the recall similarity floor, on real
data. Definitions and tables: docs/memory.md ("Measured").

    .venv/bin/python benchmarks/memory_retrieval.py accuracy [--play hamlet] [--every 5]
    .venv/bin/python benchmarks/memory_retrieval.py floor [--play hamlet] [--every 5]

The task: a character's held-out speech (every 5th of seven characters' speeches of 8+
words, not indexed) is the query; a hit is a top 5 holding a speech of the query's own
scene. Every method sees the same candidates (what the character witnessed before the
horizon) through the same filter:
- `default` / `relevance only`: the Retriever (memory/retrieval.py) with its weights;
- `newest-k`: the 5 newest candidates, no vectors at all;
- `random-k`: 5 candidates drawn at random (seeded), averaged over 5 draws.
Horizons: `after the scene` (the old figure: right after the query's scene, where the
newest speeches are the scene itself, so newest-k scores near 1), `mid-play` (a fixed
horizon halfway through the play's speeches; queries from before it) and `end of play`.

Uses the embedding cache under DRAMATIS_HOME: run `dramatis memory index PLAY` first.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable, Sequence

import numpy as np

from dramatis.core.settings import Settings
from dramatis.memory.clock import Moment
from dramatis.memory.embed import Embedder
from dramatis.memory.lore import lore_payload, speech_text
from dramatis.memory.retrieval import Horizon, Retriever, Weights
from dramatis.memory.seed import horizon_after
from dramatis.memory.settings import MemorySettings
from dramatis.memory.store import VectorStore, point_id
from dramatis.personas import load_play
from dramatis.personas.model import Play, Speech

CHARACTERS = ["Hamlet", "Claudius", "Polonius", "Horatio", "Laertes", "Ophelia", "Gertrude"]
K = 5
Method = Callable[[Speech, np.ndarray, Horizon], list[dict]]  # -> payloads of the top K


def held_out(play: Play, every: int) -> list[Speech]:
    """Every `every`-th speech of each character with 8 words or more."""
    out = []
    for name in CHARACTERS:
        own = [s for s in play.speeches() if s.speaker == name and len(s.text.split()) >= 8]
        out += own[::every]
    return out


def mid_play(play: Play) -> str:
    """The scene holding the play's middle speech: the mid-play horizon (hamlet -> "3.2")."""
    speeches = play.speeches()
    return speeches[len(speeches) // 2].scene_id


def filled_store(play: Play, embedder: Embedder, skip: set[int]) -> VectorStore:
    """An in-memory store of the play's speeches minus `skip`, vectors from the cache."""
    speeches = play.speeches()
    vectors, _ = embedder.encode_cached([speech_text(s) for s in speeches])
    keep = [i for i, s in enumerate(speeches) if s.index not in skip]
    store = VectorStore(":memory:")
    payloads = [lore_payload(play, speeches[i], "heldout") for i in keep]
    store.upsert(
        "lore", [point_id(play.key, speeches[i].index) for i in keep], vectors[keep], payloads
    )
    return store


def methods(store: VectorStore, embedder: Embedder, seed: int = 0) -> dict[str, Method]:
    def retriever(weights: Weights) -> Method:
        r = Retriever(store, embedder, weights)
        return lambda q, v, at: [m.payload for m in r.recall(q.speaker, v, at, K)]

    every = store.mirrors["lore"].payloads  # the same filter as lore_filter, in Python

    def witnessed(q: Speech, at: Horizon) -> list[dict]:
        return [p for p in every if q.speaker in p["on_stage"] and p["clock"] < at.clock]

    def newest(q: Speech, v: np.ndarray, at: Horizon) -> list[dict]:
        return sorted(witnessed(q, at), key=lambda p: -p["index"])[:K]

    rng = random.Random(seed)

    def drawn(q: Speech, v: np.ndarray, at: Horizon) -> list[dict]:
        seen = witnessed(q, at)
        return rng.sample(seen, min(K, len(seen)))

    return {
        "default weights": retriever(Weights()),
        "relevance only": retriever(Weights(recency=0.0, importance=0.0)),
        "recency 0.1": retriever(Weights(recency=0.1)),
        "no floor (default weights)": retriever(Weights(floor=-1.0)),
        "relevance only, no floor": retriever(Weights(recency=0.0, importance=0.0, floor=-1.0)),
        "newest-k (no vectors)": newest,
        "random-k": drawn,
    }


def horizons(play: Play, q: Speech) -> dict[str, str | None]:
    """Each horizon's moment for query `q`, None where `q` is not before it."""
    mid = mid_play(play)
    before_mid = Moment.parse(q.scene_id) < Moment.parse(mid)
    return {"after the scene": horizon_after(q.scene_id),
            "mid-play": mid if before_mid else None, "end of play": "99.0"}  # fmt: skip


def accuracy(play_key: str, every: int, embedder: Embedder, draws: int = 5) -> dict:
    play = load_play(play_key)
    queries = held_out(play, every)
    store = filled_store(play, embedder, {q.index for q in queries})
    vectors = embedder.encode([speech_text(q) for q in queries])
    report: dict = {"play": play.key, "queries": len(queries), "mid-play horizon": mid_play(play)}
    for name in ("after the scene", "mid-play", "end of play"):
        asked = [(q, v, horizons(play, q)[name]) for q, v in zip(queries, vectors, strict=True)]
        asked = [(q, v, h) for q, v, h in asked if h is not None]
        row: dict = {"queries": len(asked)}
        for label in methods(store, embedder):
            rates = [
                hit_rate(methods(store, embedder, seed)[label], play, asked)
                for seed in range(draws if label == "random-k" else 1)
            ]
            row[label] = round(float(np.mean(rates)), 3)
        report[name] = row
    store.close()
    return report


def hit_rate(method: Method, play: Play, asked: Sequence[tuple[Speech, np.ndarray, str]]) -> float:
    hits = 0
    for q, v, h in asked:
        top = method(q, v, Horizon(play.key, h))
        hits += any((p["act"], p["scene"]) == (q.act, q.scene) for p in top)
    return hits / max(1, len(asked))


def floor(play_key: str, every: int, embedder: Embedder) -> dict:
    """Where a recalled speech stops being related to the query: the cosine similarity
    of each held-out query to every speech its speaker witnessed (end of play), split by
    whether the speech is from the query's own scene."""
    play = load_play(play_key)
    queries = held_out(play, every)
    speeches = play.speeches()
    vectors, _ = embedder.encode_cached([speech_text(s) for s in speeches])
    qv = embedder.encode([speech_text(q) for q in queries])
    heard = [set(lore_payload(play, s, "")["on_stage"]) for s in speeches]
    sims = vectors @ qv.T  # (speeches, queries)
    same, other = [], []
    for j, q in enumerate(queries):
        for i, s in enumerate(speeches):
            if s.index != q.index and q.speaker in heard[i]:
                (same if s.scene_id == q.scene_id else other).append(float(sims[i, j]))
    same_a, other_a = np.array(same), np.array(other)
    base = len(same_a) / (len(same_a) + len(other_a))
    bins = np.round(np.arange(-0.1, 0.8, 0.05), 2)
    share = {}
    for lo in bins:
        s = int(((same_a >= lo) & (same_a < lo + 0.05)).sum())
        o = int(((other_a >= lo) & (other_a < lo + 0.05)).sum())
        if s + o:
            share[f"{lo:.2f}"] = {"pairs": s + o, "same scene": round(s / (s + o), 3)}
    return {
        "play": play.key,
        "pairs": len(same) + len(other),
        "same-scene share overall": round(base, 3),
        "other-scene similarity p50 / p95 / p99": [
            round(float(np.percentile(other_a, p)), 3) for p in (50, 95, 99)
        ],
        "same-scene similarity p50 / p95": [
            round(float(np.percentile(same_a, p)), 3) for p in (50, 95)
        ],
        "same-scene share by similarity": share,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["accuracy", "floor"])
    parser.add_argument("--play", default="hamlet")
    parser.add_argument("--every", type=int, default=5)
    args = parser.parse_args()
    settings = Settings.load()
    embedder = Embedder(MemorySettings.under(settings.home).embeddings, threads=settings.n_threads)
    run = accuracy if args.what == "accuracy" else floor
    print(json.dumps(run(args.play, args.every, embedder), indent=2))


if __name__ == "__main__":
    main()
