"""A persons-list fact that names a third person is not told to someone who has not yet
met or heard of that person (the arena's knowledge-leak rule: at hamlet:1.2 Claudius
naming Horatio is a leak), while the speaker's own kin stay public from the start."""

from dramatis.memory.knowledge import known_people, knows_about
from dramatis.memory.seed import seed_graph
from dramatis.personas import load_play


def test_claudius_at_1_2_is_not_told_of_hamlet_s_friend_horatio():
    hamlet = load_play("hamlet")
    early = seed_graph(hamlet, "1.2")
    about = knows_about(early, "Claudius", "Hamlet", "1.2")
    assert "Hamlet is nephew to Claudius." in about  # his own kin: the persons list
    assert not any("Horatio" in s for s in about)
    assert "Horatio" not in known_people(early, "Claudius", "1.2")
    # Hamlet himself knows his friend from the start, and Horatio is named to him in 1.2
    assert any("Horatio" in s for s in knows_about(early, "Hamlet", "Hamlet", "1.2"))


def test_once_met_the_friend_is_told():
    late = seed_graph(load_play("hamlet"), "4.1")  # Claudius and Horatio share 3.2
    assert "Horatio" in known_people(late, "Claudius", "4.1")
    assert any("Horatio" in s for s in knows_about(late, "Claudius", "Hamlet", "4.1"))
