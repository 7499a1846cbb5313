"""In a chat the page's list of persons names the person as they asked to be seen, so the
characters address them as such (not "my lord" by default)."""

from __future__ import annotations

import pytest

from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.scene_store import SceneStore
from dramatis.core.errors import DramatisError
from dramatis.core.settings import Settings
from dramatis.tui.session import ChatOptions, ChatSession, new_spec, open_chat


def persons_seen(tmp_path, model: FakeModel, **options) -> tuple[ChatSession, str, str]:
    """A chat with Hamlet: the person says a line, Hamlet answers; (session, the persons
    block of Hamlet's page, the page's last lines)."""
    settings = Settings(home=tmp_path).ensure()
    spec, opening = new_spec(ChatOptions(cast="Hamlet", **options), thread_id="chat-1")
    session = ChatSession.start(spec, opening, SceneStore(settings.scenes_db), settings, model)
    session.say("Good evening. What news from Wittenberg?")
    list(session.run(1))
    page = model.prompts[-1]
    return session, page.split("\n\n")[0], page.split("\n\n")[-1]


def test_the_page_lists_the_person_by_name_and_rank(tmp_path):
    model = FakeModel(chat=False)
    session, persons, scene = persons_seen(
        tmp_path, model, name="Anna", rank="a gentlewoman of Verona"
    )
    assert persons.split("\n") == [
        "HAMLET, son to the former King of Denmark, and nephew to the present King.",
        "ANNA, a gentlewoman of Verona.",
    ]
    assert "ANNA: Good evening. What news from Wittenberg?" in scene
    assert session.human == "Anna" and session.turns()[0]["speaker"] == "Anna"
    reopened = open_chat("chat-1", session.store, session.settings, model)
    reopened.say("And the King?")
    list(reopened.run(1))
    assert "\nANNA, a gentlewoman of Verona.\n" in model.prompts[-1]  # a resumed chat too


def test_by_default_the_person_is_a_stranger_not_a_lord(tmp_path):
    _, persons, scene = persons_seen(tmp_path, FakeModel(chat=False))
    assert persons.split("\n")[-1] == "YOU, a stranger."
    assert "YOU: Good evening." in scene and "lord" not in persons.split("\n")[-1]


def test_joining_as_a_character_lists_their_own_card(tmp_path):
    model = FakeModel(chat=False)
    settings = Settings(home=tmp_path).ensure()
    spec, _ = new_spec(ChatOptions(cast="Hamlet,Horatio", human="Hamlet"))
    session = ChatSession.start(spec, [], SceneStore(settings.scenes_db), settings, model)
    session.say("Horatio, or I do forget myself.")
    list(session.run(1))
    persons = model.prompts[-1].split("\n\n")[0].split("\n")
    assert persons[0].startswith("HORATIO, ") and persons[1].startswith("HAMLET, son to")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"human": "Hamlet", "name": "Anna"}, "makes you that character"),
        ({"human": "Hamlet", "rank": "a duke"}, "makes you that character"),
        ({"name": "Anna: the Great"}, "up to four words"),
    ],
)
def test_name_and_rank_errors_are_one_line(options, message):
    with pytest.raises(DramatisError, match=message):
        new_spec(ChatOptions(cast="Horatio", **options))
