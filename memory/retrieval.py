"""Retrieval for one character: relevance + lexical overlap + recency + importance, over
only what the character witnessed, and nothing after its story horizon.

Generative Agents' score: each part min-max normalised over the candidates, then a
weighted sum, with BM25 over the words the cue shares with a line beside the cosine
(memory/lexical.py). Candidates are the most relevant points that pass the filters (a
payload filter, so a post-horizon or unwitnessed point is never even a candidate). At
most `per_scene` lines of one scene of the play are recalled, so k memories are k
moments rather than one moment k times.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel

from dramatis.memory.clock import Moment
from dramatis.memory.embed import Embedder
from dramatis.memory.lexical import Lexicon, words
from dramatis.memory.mirror import Hit, Where
from dramatis.memory.stores import Store

# Below this cosine similarity a line is no likelier to be of the cue's scene than any
# line the character heard: on Hamlet, 0.39 is the 95th percentile of a held-out speech's
# similarity to lines of other scenes, and the same-scene share stays at its base rate
# (0.12-0.13) in every bin below 0.40, rising to 0.19 at 0.45-0.55 and 0.26+ above 0.60
# (benchmarks/memory_retrieval.py floor; docs/memory.md "Measured").
FLOOR = 0.39
# A line below FLOOR is still recalled when its BM25 against the cue reaches this: about
# one shared word that only a few of the play's speeches hold ("Yorick" 6.6, "rapier" 5.8,
# "lord" 1.7 in a line of average length). Not calibrated on scene membership: pairs under
# the cosine floor stay at the base rate whatever their BM25 (docs/memory.md, "Measured").
LEXICAL_FLOOR = 5.0


class Weights(BaseModel):
    """Defaults and why: docs/memory.md ("Scoring")."""

    relevance: float = 1.0
    # 0.1, not 0.5: at half weight recency put the default below five random lines at
    # mid-play (0.72 against 0.79); its lift right after a scene is what the five newest
    # lines alone give (docs/memory.md, "Measured")
    recency: float = 0.1
    importance: float = 0.25
    # BM25 of the cue's words against the line's, beside the cosine: a shared name or rare
    # word ties a line to the cue where the sentence vector blurs it (docs/memory.md)
    lexical: float = 0.5
    decay: float = 0.995  # recency per speech of story time (Generative Agents: per hour)
    candidates: int = 80  # most relevant points scored per collection
    # Cosine similarity below which a point is not recalled at all, however recent or
    # important: calibrated on Hamlet (benchmarks/memory_retrieval.py floor; docs/memory.md)
    floor: float = FLOOR
    # ...unless it shares this much BM25 with the cue (about one word found in a handful of
    # the play's speeches; set by rarity, not calibrated like `floor`: see LEXICAL_FLOOR)
    lexical_floor: float = LEXICAL_FLOOR
    per_scene: int = 1  # most lines recalled from one scene of the play (0: no limit)


@dataclass(frozen=True)
class Memory:
    kind: str  # "lore" (the play) or "episodic" (this scene)
    speaker: str
    text: str
    when: str  # "2.2" for the play, "3.1+4" for turn 4 of a scene staged at 3.1
    score: float
    relevance: float
    payload: dict
    lexical: float = 0.0  # BM25 of the cue's words against the line's


@dataclass(frozen=True)
class Horizon:
    """Where a character stands in story time: its play, the scene it is staged at (no
    speech from that scene or later is known), and the scene's turns so far."""

    play: str
    scene: str  # "1.3"; "99.0" for the whole play
    thread: str | None = None
    turns: int = 0

    @property
    def clock(self) -> int:
        return Moment.parse(self.scene).clock


def normalise(values: np.ndarray) -> np.ndarray:
    """Min-max to [0, 1]; all equal -> all 1: normalise([2, 4, 6]) -> [0, 0.5, 1]."""
    span = float(values.max() - values.min()) if values.size else 0.0
    return (values - values.min()) / span if span > 1e-9 else np.ones_like(values)


def lore_filter(who: str, at: Horizon) -> Where:
    return Where(
        equals=(("play", at.play),), contains=(("on_stage", who),), below=(("clock", at.clock),)
    )


def episodic_filter(who: str, at: Horizon) -> Where:
    return Where(equals=(("thread", at.thread or ""),), contains=(("witnesses", who),))


def ages(hits: list[Hit], at: Horizon, now_index: int) -> np.ndarray:
    """Story time since each hit, in speeches: the play's speeches by their index, scene
    turns after every play speech before the horizon."""
    out = []
    for h in hits:
        if h.payload.get("kind") == "episodic":
            out.append(max(0, at.turns - int(h.payload["turn"])))
        else:
            out.append(max(0, now_index - int(h.payload["index"])) + at.turns)
    return np.array(out, dtype=np.float64)


def memory_of(h: Hit, score: float, lexical: float = 0.0) -> Memory:
    p = h.payload
    when = p.get("when") or f"{p.get('act')}.{p.get('scene')}"
    return Memory(p.get("kind", "lore"), p["speaker"], p["text"], when, score, h.score, p, lexical)


def moment_of(p: dict) -> tuple:
    """What `per_scene` counts by: a scene of the play, or one turn of the staged scene."""
    if p.get("kind") == "episodic":
        return ("turn", p.get("thread"), p.get("turn"))
    return ("scene", p.get("play"), p.get("act"), p.get("scene"))


class Retriever:
    def __init__(self, store: Store, embedder: Embedder, weights: Weights | None = None):
        self.store = store
        self.embedder = embedder
        self.weights = weights or Weights()
        self._lexicons: dict[str, Lexicon] = {}
        self._words: dict[str, list[str]] = {}  # point id -> its words, for BM25

    def lexicon(self, play: str) -> Lexicon:
        """Document frequencies over the play's indexed speeches, read once."""
        if play not in self._lexicons:
            mirror = getattr(self.store, "mirrors", {}).get("lore")  # qdrant local: in memory
            where = Where(equals=(("play", play),))
            if mirror is not None:
                texts = [p.get("text", "") for p in mirror.payloads if p.get("play") == play]
            else:
                texts = [p.get("text", "") for p in self.store.payloads("lore", where, 100_000)]
            lexicon = Lexicon(texts)
            if lexicon.n == 0:
                return lexicon  # not indexed yet: not cached
            self._lexicons[play] = lexicon
        return self._lexicons[play]

    def _line_words(self, h: Hit) -> list[str]:
        if h.id not in self._words:
            self._words[h.id] = words(h.payload.get("text", ""))
        return self._words[h.id]

    def candidates(self, who: str, query: str | np.ndarray, at: Horizon) -> list[Hit]:
        vector = self.embedder.encode_query(query) if isinstance(query, str) else query
        n = self.weights.candidates
        hits = self.store.search("lore", vector, lore_filter(who, at), n)
        if at.thread:
            hits += self.store.search("episodic", vector, episodic_filter(who, at), n)
        return hits

    def recall(
        self, who: str, query: str | np.ndarray, at: Horizon, k: int = 5, text: str | None = None
    ) -> list[Memory]:
        """The `k` best memories of `who` for `query` (text, or its embedding with its
        `text` for the lexical part), best first."""
        w = self.weights
        text = query if isinstance(query, str) else text
        hits = self.candidates(who, query, at)
        cue = words(text) if text and w.lexical else []
        lexicon = self.lexicon(at.play) if cue else None
        lexical = np.array(
            [lexicon.bm25(cue, self._line_words(h)) if lexicon else 0.0 for h in hits]
        )
        keep = [
            i for i, h in enumerate(hits) if h.score >= w.floor or lexical[i] >= w.lexical_floor
        ]
        if not keep:
            return []
        hits, lexical = [hits[i] for i in keep], lexical[keep]
        now_index = max((int(h.payload.get("index", 0)) for h in hits), default=0) + 1
        relevance = np.array([h.score for h in hits])
        recency = w.decay ** ages(hits, at, now_index)
        weight = np.array([float(h.payload.get("importance", 0.0)) for h in hits])
        score = (
            w.relevance * normalise(relevance)
            + w.lexical * normalise(lexical)
            + w.recency * normalise(recency)
            + w.importance * normalise(weight)
        )
        chosen: list[int] = []
        taken: dict[tuple, int] = {}
        for i in np.argsort(-score, kind="stable"):
            moment = moment_of(hits[i].payload)
            if w.per_scene and taken.get(moment, 0) >= w.per_scene:
                continue
            taken[moment] = taken.get(moment, 0) + 1
            chosen.append(int(i))
            if len(chosen) == k:
                break
        return [memory_of(hits[i], float(score[i]), float(lexical[i])) for i in chosen]
