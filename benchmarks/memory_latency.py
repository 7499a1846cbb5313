"""Memory latency: one character's retrieval at 1k and 20k memories in qdrant local mode,
through the exact mirror (the local default) and through qdrant's own filtered search
(what a Qdrant server is asked), plus query encoding and graph query times.

    .venv/bin/python benchmarks/memory_latency.py [--sizes 1000,20000] [--queries 200]

Memories are Hamlet's speeches (real payloads: speaker, scene, on_stage), repeated to
reach the size, with random unit vectors: search cost depends on the count and the
filter, not on what the vectors say. Each query is a full `Retriever.recall` (filters,
80 candidates per collection, relevance + lexical + recency + importance, one line a
scene, top 5) for a random character at a random horizon. `mirror` and
`qdrant_local_filter` are given the query vector (so no lexical part);
`with_query_encoding` is the whole of what a turn waits for: the query text (a real
speech, drawn at random) encoded by MiniLM on one thread (`encode_query`, its cache off),
then the same recall with its lexical part.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from collections.abc import Callable

import numpy as np

from dramatis.memory.embed import DIM, Embedder
from dramatis.memory.knowledge import knows_about, prompt_facts, relation
from dramatis.memory.lore import lore_payload
from dramatis.memory.retrieval import Horizon, Retriever
from dramatis.memory.seed import seed_graph
from dramatis.memory.store import VectorStore, point_id
from dramatis.personas import load_play

CAST = ["Hamlet", "Horatio", "Ophelia", "Polonius", "Claudius", "Gertrude", "Laertes"]
HORIZONS = ["1.3", "2.2", "3.1", "3.4", "4.5", "5.1", "99.0"]


def percentiles(seconds: list[float]) -> dict[str, float]:
    """{"p50": ms, "p95": ms}: percentiles([0.001, 0.002]) -> {"p50": 1.5, "p95": 1.95}"""
    ms = np.array(seconds) * 1000
    return {
        "p50": round(float(np.percentile(ms, 50)), 2),
        "p95": round(float(np.percentile(ms, 95)), 2),
    }


def timed(fn: Callable[[], object], n: int) -> dict[str, dict[str, float]]:
    """Wall and CPU time percentiles of `n` calls. On a shared machine the wall time
    includes waiting for a core; the CPU time (all threads of this process) does not."""
    wall, cpu = [], []
    for _ in range(n):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return {"wall_ms": percentiles(wall), "cpu_ms": percentiles(cpu)}


def fill(store: VectorStore, size: int, rng: np.random.Generator) -> float:
    play = load_play("hamlet")
    speeches = play.speeches()
    payloads = [lore_payload(play, speeches[i % len(speeches)], "bench") for i in range(size)]
    for i, p in enumerate(payloads):
        p["index"] = i  # a distinct story time per copy
    vectors = rng.normal(size=(size, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    start = time.perf_counter()
    store.upsert("lore", [point_id("bench", i) for i in range(size)], vectors, payloads)
    return time.perf_counter() - start


def retrieval(size: int, queries: int, native_queries: int) -> dict:
    rng, pick = np.random.default_rng(0), random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        store = VectorStore(f"{tmp}/store")
        upsert = fill(store, size, rng)
        retriever = Retriever(store, Embedder(query_cache=0))  # every cue encoded
        texts = [s.text for s in load_play("hamlet").speeches()]

        def spoken() -> object:  # what a turn pays: encode the cue, then recall
            at = Horizon("hamlet", pick.choice(HORIZONS))
            return retriever.recall(pick.choice(CAST), pick.choice(texts), at, 5)

        def one() -> object:
            q = rng.normal(size=DIM).astype(np.float32)
            at = Horizon("hamlet", pick.choice(HORIZONS))
            return retriever.recall(pick.choice(CAST), q / np.linalg.norm(q), at, 5)

        for who in CAST:  # build the mirror's filter masks once (they stay until a write)
            for h in HORIZONS:
                retriever.recall(who, rng.normal(size=DIM).astype(np.float32), Horizon("hamlet", h))
        retriever.lexicon("hamlet")  # read once per play and process, like the masks
        mirror = timed(one, queries)
        retriever.embedder.encode_query("warm up")
        encoded = timed(spoken, queries)
        store.use_mirror = False
        native = timed(one, native_queries)
        store.close()
    return {
        "memories": size,
        "upsert_s": round(upsert, 1),
        "mirror": mirror,
        "with_query_encoding": encoded,
        "qdrant_local_filter": native,
    }


def graph_times(queries: int) -> dict:
    play = load_play("hamlet")
    start = time.perf_counter()
    graph = seed_graph(play, "99.0")
    seeded = time.perf_counter() - start
    pick = random.Random(1)

    def one() -> object:
        who, other, at = pick.choice(CAST), pick.choice(CAST), pick.choice(HORIZONS)
        return knows_about(graph, who, other, at), relation(graph, who, other, at)

    def facts() -> object:
        return prompt_facts(graph, pick.choice(CAST), pick.choice(HORIZONS))

    return {
        "seed_whole_play_s": round(seeded, 3),
        "nodes": graph.g.number_of_nodes(),
        "edges": graph.g.number_of_edges(),
        "knows_about+relation": timed(one, queries),
        "prompt_facts": timed(facts, queries),
    }


def encode_times(n: int) -> dict:
    """A cue's encoding as recall does it (`encode_query`: its last 128 word pieces, one
    thread, no cache), for `n` random speeches of Hamlet and for its 50 longest."""
    embedder = Embedder(query_cache=0)
    embedder.encode_query("warm up")
    speeches = [s.text for s in load_play("hamlet").speeches()]
    lines = random.Random(2).sample(speeches, n)
    longest = sorted(speeches, key=len)[-50:]
    it, long_it = iter(lines), iter(longest)
    return {
        "query_encode": timed(lambda: embedder.encode_query(next(it)), len(lines)),
        "query_encode_longest_50": timed(lambda: embedder.encode_query(next(long_it)), 50),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,20000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--native-queries", type=int, default=30)
    args = parser.parse_args()
    report = {
        "retrieval": [
            retrieval(int(s), args.queries, args.native_queries) for s in args.sizes.split(",")
        ],
        "graph": graph_times(args.queries),
        "encode": encode_times(args.queries),
        "load_average": list(os.getloadavg()),
        "cores": os.cpu_count(),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
