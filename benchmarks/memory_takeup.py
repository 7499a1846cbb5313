"""Memory take-up judged without the steering's word list: how close a speech is, in
embedding space, to the memories its speaker was given. Definitions and tables:
docs/memory.md ("Measured").

    .venv/bin/python benchmarks/memory_takeup.py [--play hamlet] [--runs DIR ...]

Calibration on the real play: for each speech of eight words or more by seven Hamlet
characters, the memories are what the Retriever gives its speaker for the two speeches
before it (k=4, at the speech's own scene); its take-up similarity is the highest cosine
similarity between the speech and one of them. Chance is the same speech against the
memories recalled for another speech (a fixed shuffle). The threshold is chance's 95th
percentile, so a speech "takes up" its memories when it is closer to them than 95% of
chance pairs. The real plays' rate is reported beside it: what a writer who knows his
characters' past does. `--runs` scores staged transcripts (turns with `tools`, from
`stage --memory`) the same way. Nothing here reads the cue words steering boosts, so
appending memory words to a reply buys nothing unless it moves the whole speech.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

import numpy as np

from dramatis.core.settings import Settings
from dramatis.memory.embed import Embedder
from dramatis.memory.lore import lore_payload, speech_text
from dramatis.memory.retrieval import Horizon, Retriever
from dramatis.memory.settings import MemorySettings
from dramatis.memory.store import VectorStore, point_id
from dramatis.personas import load_play

CHARACTERS = ["Hamlet", "Claudius", "Polonius", "Horatio", "Laertes", "Ophelia", "Gertrude"]
QUOTED = re.compile(r' said: "(.*)"$')


def calibrate(play_key: str, embedder: Embedder, k: int = 4) -> dict:
    play = load_play(play_key)
    speeches = play.speeches()
    vectors, _ = embedder.encode_cached([speech_text(s) for s in speeches])
    store = VectorStore(":memory:")
    store.upsert("lore", [point_id(play.key, s.index) for s in speeches], vectors,
                 [lore_payload(play, s, "takeup") for s in speeches])  # fmt: skip
    retriever = Retriever(store, embedder)
    chosen = []
    for scene in play.scenes():
        for i, s in enumerate(scene.speeches):
            if s.speaker in CHARACTERS and len(s.text.split()) >= 8 and i >= 2:
                cue = " ".join(speech_text(c) for c in scene.speeches[i - 2 : i])
                chosen.append((s, cue))
    cues = embedder.encode([cue for _, cue in chosen])
    given = []
    for (s, _), cue in zip(chosen, cues, strict=True):
        found = retriever.recall(s.speaker, cue, Horizon(play.key, s.scene_id), k)
        given.append([m.payload["index"] for m in found])
    store.close()
    pairs = [(s.index, g) for (s, _), g in zip(chosen, given, strict=True) if g]
    real = [best(vectors, i, g) for i, g in pairs]
    shuffled = [g for _, g in pairs]
    random.Random(0).shuffle(shuffled)
    chance = [best(vectors, i, g) for (i, _), g in zip(pairs, shuffled, strict=True)]
    threshold = float(np.percentile(chance, 95))
    return {
        "play": play.key,
        "speeches": len(pairs),
        "threshold (chance p95)": round(threshold, 3),
        "real plays' take-up rate": round(float(np.mean(np.array(real) > threshold)), 3),
        "chance rate": round(float(np.mean(np.array(chance) > threshold)), 3),
        "similarity p50 real / chance": [
            round(float(np.median(real)), 3),
            round(float(np.median(chance)), 3),
        ],  # fmt: skip
    }


def best(vectors: np.ndarray, i: int, given: list[int]) -> float:
    """The highest cosine similarity between speech `i` and the speeches in `given`."""
    return float(max(vectors[j] @ vectors[i] for j in given))


def score_runs(folders: list[Path], embedder: Embedder, threshold: float) -> dict:
    """Take-up of staged turns: each model turn against the memories its step recalled."""
    sims = []
    for folder in folders:
        for path in sorted(folder.rglob("transcript.jsonl")):
            turns = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
            on_page = [" ".join(t["text"].split()) for t in turns]
            for turn in turns:
                quoted = [  # what memory brought: not the scene's own turns, on the page
                    m[1].removesuffix(" …")
                    for call in turn.get("tools", [])
                    if call["tool"] == "recall"
                    for m in map(QUOTED.search, call["result"].splitlines())
                    if m and not any(t.startswith(m[1].removesuffix(" …")) for t in on_page)
                ]
                if turn.get("source") != "model" or not quoted:
                    continue
                v = embedder.encode([turn["text"], *quoted])
                sims.append(float(max(v[1:] @ v[0])))
    rate = float(np.mean(np.array(sims) > threshold)) if sims else 0.0
    return {"turns": len(sims), "take-up rate": round(rate, 3),
            "similarity p50": round(float(np.median(sims)), 3) if sims else None}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--play", default="hamlet")
    parser.add_argument("--runs", type=Path, nargs="*", default=[])
    parser.add_argument("--threshold", type=float, help="skip the calibration, use this")
    args = parser.parse_args()
    settings = Settings.load()
    embedder = Embedder(MemorySettings.under(settings.home).embeddings, threads=settings.n_threads)
    report = {"threshold (chance p95)": args.threshold} if args.threshold else {}
    report = report or calibrate(args.play, embedder)
    if args.runs:
        report["staged"] = score_runs(args.runs, embedder, report["threshold (chance p95)"])
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
