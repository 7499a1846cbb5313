import random

import pytest

from dramatis.agents.policies import AddressedName, RoundRobin, make_policy, mentions
from dramatis.agents.turn import make_turn
from dramatis.core.errors import DramatisError

CAST = ["Hamlet", "Ophelia", "Horatio", "Lady Macbeth"]


def said(speaker, text):
    return [make_turn(0, speaker, text)]


def test_round_robin_follows_cast_order():
    policy = RoundRobin()
    assert policy.choose(CAST, [], random.Random(0)) == "Hamlet"
    assert policy.choose(CAST, said("Horatio", "x"), random.Random(0)) == "Lady Macbeth"
    assert policy.choose(CAST, said("Lady Macbeth", "x"), random.Random(0)) == "Hamlet"
    assert policy.choose(CAST, said("Claudius", "x"), random.Random(0)) == "Hamlet"


def test_mentions_uses_whole_words():
    assert mentions("Good Horatio, come.", "Horatio")
    assert not mentions("Horatios", "Horatio")
    assert mentions("Come, Lady Macbeth.", "Lady Macbeth")
    assert not mentions("Where is Macbeth's wife?", "Lady Macbeth")  # names her husband
    assert not mentions("My lady, good night.", "Lady Macbeth")


def test_addressed_weights():
    weights = AddressedName().weights(CAST, said("Hamlet", "Nymph, in thy orisons, Ophelia"))
    assert weights == [0.0, 6.0, 1.0, 1.0]


def test_addressed_name_never_repeats_and_prefers_the_addressed():
    policy = AddressedName()
    rng = random.Random(1)
    picks = [policy.choose(CAST, said("Hamlet", "Speak, Ophelia."), rng) for _ in range(400)]
    assert "Hamlet" not in picks
    assert picks.count("Ophelia") > 2 * picks.count("Horatio")


def test_alone_on_stage_may_speak_again():
    assert AddressedName().choose(["Hamlet"], said("Hamlet", "x"), random.Random(0)) == "Hamlet"


def test_unknown_policy_is_a_user_error():
    with pytest.raises(DramatisError, match="round-robin"):
        make_policy("loudest")
