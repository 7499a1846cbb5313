"""The recall similarity floor: a memory less similar to the cue than the floor is not
recalled, however recent or important, so recall can return fewer than k (or none)."""

import numpy as np
from conftest import VectorsGiven as Fixed
from conftest import unit

from dramatis.memory.mirror import Where
from dramatis.memory.retrieval import FLOOR, Horizon, Retriever, Weights
from dramatis.memory.store import VectorStore


def test_recall_leaves_out_what_is_below_the_floor():
    store = VectorStore(":memory:")
    try:
        vectors = np.stack([unit(1, 0), unit(1, 1), unit(0, 1), unit(-1, 0.2)])
        payloads = [{"kind": "lore", "play": "p", "speaker": "A", "on_stage": ["A", "B"],
                     "clock": 101, "index": i, "act": 1, "scene": 1, "text": f"line {i}",
                     "importance": 1.0 if i == 3 else 0.0} for i in range(4)]  # fmt: skip
        store.upsert("lore", [f"00000000-0000-0000-0000-00000000000{i}" for i in range(4)],
                     vectors, payloads)  # fmt: skip
        at = Horizon("p", "2.1")
        query = unit(1, 0)  # similarity 1.0, 0.71, 0.0, -0.98 to the four lines
        floored = Retriever(store, Fixed(), Weights(floor=0.2, per_scene=0)).recall(
            "B", query, at, 4
        )
        assert [m.text for m in floored] == ["line 0", "line 1"]
        # without a floor every slot is filled, down to a line pointing the other way
        # (the newest and most important one ranks above a relevant line)
        bare = Retriever(store, Fixed(), Weights(floor=-1.0, per_scene=0)).recall("B", query, at, 4)
        assert len(bare) == 4 and "line 3" in [m.text for m in bare]
        assert Retriever(store, Fixed(), Weights(floor=0.2)).recall("B", unit(0, 0, 1), at, 4) == []
        assert store.count("lore", Where()) == 4
    finally:
        store.close()


def test_the_default_floor_is_the_calibrated_one():
    assert Weights().floor == FLOOR and 0.0 < FLOOR < 0.5
