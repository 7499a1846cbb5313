"""Recall's lexical part and its one-line-a-scene limit, on a tiny in-memory store with
vectors given directly (the real-model path: tests/test_memory_real.py and
benchmarks/memory_retrieval.py)."""

import numpy as np
from conftest import VectorsGiven as Fixed
from conftest import unit

from dramatis.memory.lexical import Lexicon, words
from dramatis.memory.retrieval import Horizon, Retriever, Weights
from dramatis.memory.store import VectorStore

LINES = [  # (scene, text, vector)
    (1, "Good morrow, my lord, good morrow.", unit(1, 0.1)),
    (1, "Good morrow to you, my lord.", unit(1, 0.2)),
    (2, "Good even, my lord.", unit(1, 0.4)),
    (3, "Alas, poor Yorick! I knew him, Horatio.", unit(0, 1)),
]


def store_of(lines):
    store = VectorStore(":memory:")
    payloads = [{"kind": "lore", "play": "p", "speaker": "A", "on_stage": ["A", "B"],
                 "clock": 100 + scene, "index": i, "act": 1, "scene": scene, "text": text,
                 "importance": 0.0} for i, (scene, text, _) in enumerate(lines)]  # fmt: skip
    ids = [f"00000000-0000-0000-0000-00000000000{i}" for i in range(len(lines))]
    store.upsert("lore", ids, np.stack([v for *_, v in lines]), payloads)
    return store


def test_one_line_a_scene_unless_asked_otherwise():
    store = store_of(LINES)
    try:
        at = Horizon("p", "2.1")
        one = Retriever(store, Fixed(), Weights(lexical=0.0)).recall("B", unit(1, 0), at, 3)
        assert [m.payload["scene"] for m in one] == [1, 2]  # the second 1.1 line is left out
        every = Retriever(store, Fixed(), Weights(lexical=0.0, per_scene=0))
        assert [m.payload["scene"] for m in every.recall("B", unit(1, 0), at, 3)] == [1, 1, 2]
    finally:
        store.close()


def test_a_shared_rare_word_recalls_a_line_below_the_cosine_floor():
    store = store_of(LINES)
    try:
        at = Horizon("p", "9.1")
        cue = "Where is Yorick now?"
        # four lines make a small lexicon: "yorick" scores about 1.2 in it (in a play's
        # thousand speeches a word of one speech scores about 6; the default floor is 5)
        r = Retriever(store, Fixed(), Weights(floor=0.5, lexical_floor=1.0))
        got = r.recall("B", unit(1, 0), at, 4, text=cue)  # Yorick's line: cosine 0
        assert "Alas, poor Yorick! I knew him, Horatio." in [m.text for m in got]
        yorick = next(m for m in got if "Yorick" in m.text)
        assert yorick.relevance < 0.5 and yorick.lexical >= 1.0
        # without the cue's words, the floor alone decides: Yorick's line is not recalled
        assert all("Yorick" not in m.text for m in r.recall("B", unit(1, 0), at, 4))
        # and with the lexical floor out of reach, neither
        strict = Retriever(store, Fixed(), Weights(floor=0.5, lexical_floor=1e9))
        assert all("Yorick" not in m.text for m in strict.recall("B", unit(1, 0), at, 4, cue))
    finally:
        store.close()


def test_bm25_weighs_rare_words_over_common_ones():
    lex = Lexicon(t for _, t, _ in LINES)
    assert words("O, Yorick! I'll go.") == ["yorick", "i'll"]
    assert lex.idf("yorick") > lex.idf("lord")
    assert lex.bm25(words("poor Yorick"), words(LINES[3][1])) > lex.bm25(
        words("my good lord"), words(LINES[0][1])
    )
    assert lex.bm25(words("Yorick"), words("Good even.")) == 0.0
