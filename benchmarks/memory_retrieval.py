"""Retrieval accuracy beside trivial baselines, and the recall similarity floor, on real
data. Definitions and tables: docs/memory.md ("Measured").

    .venv/bin/python benchmarks/memory_retrieval.py accuracy [--play hamlet,macbeth] [--every 5]
    .venv/bin/python benchmarks/memory_retrieval.py floor [--play hamlet] [--every 5]

The task: a character's held-out speech (every 5th of the seven most frequent speakers'
speeches of 8+ words, not indexed) is the query; a hit is a top 5 holding a speech of the
query's own scene (`top-1`: the first memory is of it). Every method sees the same
candidates (what the character witnessed before the horizon) through the same filter:
- `default` and its ablations: the Retriever (memory/retrieval.py) with its weights;
- `newest-k`: the 5 newest candidates, no vectors at all;
- `random-k`: 5 candidates drawn at random (seeded), averaged over 5 draws;
- `random scenes`: one random candidate from each of 5 random scenes, the trivial
  baseline of a retriever that recalls one line a scene (averaged over 5 draws).
The weights were chosen on Hamlet; every other play is held out from that choice.
Horizons: `after the scene` (the old figure: right after the query's scene, where the
newest speeches are the scene itself, so newest-k scores near 1), `mid-play` (a fixed
horizon halfway through the play's speeches; queries from before it) and `end of play`.

Uses the embedding cache under DRAMATIS_HOME: run `dramatis memory index PLAY` first.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

from dramatis.core.settings import Settings
from dramatis.memory.clock import Moment
from dramatis.memory.embed import Embedder
from dramatis.memory.lexical import Lexicon, words
from dramatis.memory.lore import lore_payload, speech_text
from dramatis.memory.retrieval import FLOOR, Horizon, Retriever, Weights
from dramatis.memory.seed import horizon_after
from dramatis.memory.settings import MemorySettings
from dramatis.memory.store import VectorStore, point_id
from dramatis.personas import load_play
from dramatis.personas.model import Play, Speech

K = 5
Method = Callable[[Speech, np.ndarray, Horizon], list[dict]]  # -> payloads of the top K


def characters(play: Play, n: int = 7) -> list[str]:
    """The `n` speakers with the most speeches of 8+ words (Hamlet: Hamlet, Claudius,
    Polonius, Horatio, Gertrude, Ophelia, Laertes)."""
    counts = Counter(s.speaker for s in play.speeches() if len(s.text.split()) >= 8)
    return [name for name, _ in counts.most_common(n)]


def held_out(play: Play, every: int) -> list[Speech]:
    """Every `every`-th speech of each character with 8 words or more."""
    out = []
    for name in characters(play):
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
        return lambda q, v, at: [
            m.payload for m in r.recall(q.speaker, v, at, K, text=speech_text(q))
        ]

    every = store.mirrors["lore"].payloads  # the same filter as lore_filter, in Python

    def witnessed(q: Speech, at: Horizon) -> list[dict]:
        return [p for p in every if q.speaker in p["on_stage"] and p["clock"] < at.clock]

    def newest(q: Speech, v: np.ndarray, at: Horizon) -> list[dict]:
        return sorted(witnessed(q, at), key=lambda p: -p["index"])[:K]

    rng = random.Random(seed)

    def drawn(q: Speech, v: np.ndarray, at: Horizon) -> list[dict]:
        seen = witnessed(q, at)
        return rng.sample(seen, min(K, len(seen)))

    def scenes(q: Speech, v: np.ndarray, at: Horizon) -> list[dict]:
        by_scene: dict[tuple, list[dict]] = {}
        for p in witnessed(q, at):
            by_scene.setdefault((p["act"], p["scene"]), []).append(p)
        picked = rng.sample(sorted(by_scene), min(K, len(by_scene)))
        return [rng.choice(by_scene[s]) for s in picked]

    old = Weights(lexical=0.0, per_scene=0, candidates=40, lexical_floor=1e9)
    return {
        "default": retriever(Weights()),
        "default, no floor": retriever(Weights(floor=-1.0, lexical_floor=1e9)),
        "no lexical part": retriever(Weights(lexical=0.0, lexical_floor=1e9)),
        "no per-scene limit": retriever(Weights(per_scene=0)),
        "previous default (cosine, recency 0.1, floor 0.39)": retriever(old),
        "newest-k (no vectors)": newest,
        "random-k": drawn,
        "random scenes (one line each)": scenes,
    }


RANDOM = ("random-k", "random scenes (one line each)")


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
    # the cue's vector as recall makes it (its last QUERY_TOKENS word pieces)
    vectors = np.stack([embedder.encode_query(speech_text(q)) for q in queries])
    report: dict = {
        "play": play.key,
        "characters": characters(play),
        "queries": len(queries),
        "mid-play horizon": mid_play(play),
    }
    for name in ("after the scene", "mid-play", "end of play"):
        asked = [(q, v, horizons(play, q)[name]) for q, v in zip(queries, vectors, strict=True)]
        asked = [(q, v, h) for q, v, h in asked if h is not None]
        row: dict = {"queries": len(asked)}
        for label in methods(store, embedder):
            rates = [
                hit_rate(methods(store, embedder, seed)[label], play, asked)
                for seed in range(draws if label in RANDOM else 1)
            ]
            row[label] = [round(float(np.mean([r[i] for r in rates])), 3) for i in (0, 1)]
        report[name] = row
    store.close()
    return report


def hit_rate(
    method: Method, play: Play, asked: Sequence[tuple[Speech, np.ndarray, str]]
) -> tuple[float, float]:
    """(share of queries with any of the top K from their own scene, share whose first
    memory is from it)."""
    hits = firsts = 0
    for q, v, h in asked:
        top = method(q, v, Horizon(play.key, h))
        own = [(p["act"], p["scene"]) == (q.act, q.scene) for p in top]
        hits += any(own)
        firsts += bool(own) and own[0]
    return hits / max(1, len(asked)), firsts / max(1, len(asked))


def floor(play_key: str, every: int, embedder: Embedder) -> dict:
    """Where a recalled speech stops being related to the query: the cosine similarity
    of each held-out query to every speech its speaker witnessed (end of play), split by
    whether the speech is from the query's own scene."""
    play = load_play(play_key)
    queries = held_out(play, every)
    speeches = play.speeches()
    vectors, _ = embedder.encode_cached([speech_text(s) for s in speeches])
    qv = np.stack([embedder.encode_query(speech_text(q)) for q in queries])
    heard = [set(lore_payload(play, s, "")["on_stage"]) for s in speeches]
    sims = vectors @ qv.T  # (speeches, queries)
    lexicon = Lexicon(speech_text(s) for s in speeches)
    line_words = [words(speech_text(s)) for s in speeches]
    same, other = [], []
    lexical: list[tuple[float, bool]] = []  # (BM25, same scene) of the pairs below FLOOR
    for j, q in enumerate(queries):
        cue = words(speech_text(q))
        for i, s in enumerate(speeches):
            if s.index != q.index and q.speaker in heard[i]:
                (same if s.scene_id == q.scene_id else other).append(float(sims[i, j]))
                if sims[i, j] < FLOOR:
                    bm25 = lexicon.bm25(cue, line_words[i])
                    lexical.append((bm25, s.scene_id == q.scene_id))
    same_a, other_a = np.array(same), np.array(other)
    base = len(same_a) / (len(same_a) + len(other_a))
    bins = np.round(np.arange(-0.1, 0.8, 0.05), 2)
    share = {}
    for lo in bins:
        s = int(((same_a >= lo) & (same_a < lo + 0.05)).sum())
        o = int(((other_a >= lo) & (other_a < lo + 0.05)).sum())
        if s + o:
            share[f"{lo:.2f}"] = {"pairs": s + o, "same scene": round(s / (s + o), 3)}
    by_bm25 = {}
    for lo, hi in ((0, 1e-9), (1e-9, 2), (2, 4), (4, 5), (5, 6), (6, 8), (8, 12), (12, 1e9)):
        inside = [same for b, same in lexical if lo <= b < hi]
        if inside:
            label = f"{lo:g}-{hi:g}" if hi < 1e9 else f"{lo:g}+"
            by_bm25[label] = {"pairs": len(inside), "same scene": round(np.mean(inside), 3)}
    return {
        "play": play.key,
        "pairs": len(same) + len(other),
        "below the cosine floor, same-scene share by BM25": by_bm25,
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
    parser.add_argument("--play", default="hamlet", help="one play, or several: hamlet,macbeth")
    parser.add_argument("--every", type=int, default=5)
    args = parser.parse_args()
    settings = Settings.load()
    embedder = Embedder(MemorySettings.under(settings.home).embeddings, threads=settings.n_threads)
    run = accuracy if args.what == "accuracy" else floor
    for play in args.play.split(","):
        print(json.dumps(run(play, args.every, embedder), indent=2), flush=True)


if __name__ == "__main__":
    main()
