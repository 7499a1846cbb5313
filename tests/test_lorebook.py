"""Lorebooks (personas/lorebook.py) on hand-built books, one semantic of the V2/V3 specs
per test, and an imported card's lore in the prompts a staged scene's agent renders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dramatis.agents.character import AgentSettings
from dramatis.agents.scene_store import SceneSpec, SceneStore
from dramatis.agents.turn import make_turn
from dramatis.cli import app
from dramatis.core.settings import Settings
from dramatis.personas.lorebook import (
    Lorebook,
    active_entries,
    key_matches,
    lore_text,
    without_decorators,
)

FIXTURES = Path(__file__).parent / "fixtures" / "cards"


def book(*entries: dict[str, Any], **fields: Any) -> Lorebook:
    """A lorebook of `entries` (each enabled, insertion_order 0 unless they say)."""
    rows = [{"enabled": True, "insertion_order": 0, "extensions": {}, **e} for e in entries]
    return Lorebook.model_validate({"entries": rows, "extensions": {}, **fields})


def fired(lore: Lorebook, *messages: str) -> list[str]:
    """The contents of the entries `messages` bring in, in prompt order."""
    return [e.content for e in active_entries(lore, list(messages))]


def test_keys_match_whole_words_only():
    lore = book({"keys": ["king", "royal castle"], "content": "K"})
    assert fired(lore, "Long live the King!") == ["K"]
    assert fired(lore, "To the royal castle, then.") == ["K"]
    assert fired(lore, "The kingdom is rotten.") == []  # "king" inside a word
    assert fired(lore, "A royal castles tour.") == []
    assert fired(lore, "Hail, king") == ["K"]  # at the very end of the text
    assert not key_matches("  ", "anything at all", case_sensitive=False, regex=False)


def test_selective_entries_need_a_secondary_key_too():
    both = book({"keys": ["king"], "secondary_keys": ["jest"], "selective": True, "content": "J"})
    assert fired(both, "The king is here.") == []
    assert fired(both, "The king is here.", "He loved a jest.") == ["J"]
    assert fired(both, "A jest, no more.") == []  # the secondary key alone is not enough
    loose = book({"keys": ["king"], "secondary_keys": ["jest"], "selective": False, "content": "L"})
    assert fired(loose, "The king is here.") == ["L"]  # not selective: secondary keys unused
    bare = book({"keys": ["king"], "secondary_keys": [], "selective": True, "content": "B"})
    assert fired(bare, "The king is here.") == ["B"]  # selective without secondary keys


def test_constant_entries_always_fire():
    lore = book({"keys": [], "constant": True, "content": "C"}, {"keys": ["x"], "content": "X"})
    assert fired(lore, "Nothing to see.") == ["C"]
    assert fired(lore) == ["C"]  # even before anyone spoke


def test_fired_entries_go_in_by_insertion_order():
    lore = book(
        {"keys": ["ghost"], "content": "third", "insertion_order": 30},
        {"keys": ["ghost"], "content": "first", "insertion_order": -5},
        {"keys": ["ghost"], "content": "second", "insertion_order": 7.5},
    )
    assert fired(lore, "The ghost walks.") == ["first", "second", "third"]


def test_disabled_entries_never_fire():
    lore = book(
        {"keys": ["poison"], "content": "P", "enabled": False},
        {"keys": [], "constant": True, "content": "C", "enabled": False},
    )
    assert fired(lore, "Poison in the cup!") == []


def test_case_sensitive_keys():
    strict = book({"keys": ["Mayor"], "content": "M", "case_sensitive": True})
    assert fired(strict, "The Mayor went out.") == ["M"]
    assert fired(strict, "the mayor went out.") == []
    for loose in (False, None):  # unset: case-insensitive
        lore = book({"keys": ["Mayor"], "content": "m", "case_sensitive": loose})
        assert fired(lore, "THE MAYOR WENT OUT.") == ["m"]


def test_v3_regex_keys():
    lore = book({"keys": [r"\blamps?\b"], "content": "R", "use_regex": True})
    assert fired(lore, "Under the lampshade.") == []
    assert fired(lore, "Three LAMPS went dark.") == ["R"]  # case-insensitive by default
    slashed = book(
        {"keys": ["/^tide/i"], "content": "S", "use_regex": True, "case_sensitive": True}
    )
    assert fired(slashed, "Tide's in.") == ["S"]  # "/pattern/flags", as SillyTavern writes it
    assert fired(slashed, "The tide's in.") == []
    broken = book({"keys": ["(unclosed"], "content": "B", "use_regex": True})
    assert fired(broken, "(unclosed paren") == []  # a malformed regex never fires
    plain = book({"keys": ["lamp(s)?"], "content": "P", "use_regex": False})
    assert fired(plain, "Three lamps.") == [] and fired(plain, "a lamp(s)? sign") == ["P"]


def test_v3_regex_entries_ignore_constant_and_secondary_keys():
    """The V3 spec: with use_regex, `constant` and `secondary_keys` SHOULD be ignored."""
    lore = book(
        {"keys": ["oil"], "content": "O", "use_regex": True, "constant": True},
        {
            "keys": ["oil"],
            "secondary_keys": ["mayor"],
            "selective": True,
            "content": "S",
            "use_regex": True,
        },
    )
    assert fired(lore, "Nothing here.") == []
    assert fired(lore, "Oil for the lamps.") == ["O", "S"]


def test_scan_depth_limits_the_messages_scanned():
    entries = ({"keys": ["ghost"], "content": "G"}, {"keys": [], "constant": True, "content": "C"})
    said = ["The ghost walks!", "Hush.", "Hark.", "Who's there?", "Nay, answer me."]
    assert fired(book(*entries, scan_depth=5), *said) == ["G", "C"]
    assert fired(book(*entries, scan_depth=4), *said) == ["C"]  # five messages back
    assert fired(book(*entries), *said[1:]) == ["C"]
    assert fired(book(*entries), *said[1:], "The ghost!") == ["G", "C"]  # default depth 4
    assert fired(book(*entries, scan_depth=0), "The ghost!") == ["C"]  # only constants


def test_token_budget_drops_the_lowest_priority_first():
    lore = book(
        {"keys": ["x"], "content": "a b c d", "priority": 5, "insertion_order": 3},
        {"keys": ["x"], "content": "e f g", "priority": 1, "insertion_order": 1},
        {"keys": ["x"], "content": "h i", "priority": 9, "insertion_order": 2},
        token_budget=6,  # words, by active_entries' default count
    )
    assert fired(lore, "x") == ["h i", "a b c d"]  # priority 1 left out, insertion order kept
    roomy = lore.model_copy(update={"token_budget": 9})
    assert fired(roomy, "x") == ["e f g", "h i", "a b c d"]
    small = book(
        {"keys": ["x"], "content": "too long for it", "priority": 9, "insertion_order": 1},
        {"keys": ["x"], "content": "fits", "priority": 1, "insertion_order": 2},
        token_budget=2,
    )
    assert fired(small, "x") == ["fits"]  # a lower-priority entry still fills what is left


def test_without_priorities_the_lowest_insertion_order_goes_first():
    lore = book(
        {"keys": ["x"], "content": "a b", "insertion_order": 1},
        {"keys": ["x"], "content": "c d", "insertion_order": 5},
        {"keys": ["x"], "content": "e f", "insertion_order": 3},
        token_budget=4,
    )
    assert fired(lore, "x") == ["e f", "c d"]


def test_decorators_stay_out_of_the_prompt():
    lore = book({"keys": [], "constant": True, "content": "@@depth 4\n@@@instruct_depth 4\nCold."})
    assert lore_text(active_entries(lore, [])) == "Cold."
    assert without_decorators("Plain\ntext") == "Plain\ntext"
    empty = book({"keys": [], "constant": True, "content": "@@dont_activate"})
    assert lore_text(active_entries(empty, [])) == ""


@pytest.mark.model
def test_imported_card_lore_reaches_a_staged_agents_prompts(home, smollm2):
    """Real path: `personas import` into DRAMATIS_HOME, a scene staged with the bundled
    model, and the prompts Yorick's agent renders (page, and chat under SmolLM2's template)."""
    imported = CliRunner().invoke(app, ["personas", "import", str(FIXTURES / "yorick_v2.json")])
    assert imported.exit_code == 0, imported.output
    from dramatis.staging import build_scene

    spec = SceneSpec(thread_id="lore-1", cast=["Hamlet", "Yorick"], setting="A churchyard.")
    store = SceneStore(home / "scenes.sqlite")
    staged = build_scene(spec, store, Settings(home=home), model=smollm2)
    yorick = staged.scene.agents["Yorick"]
    said = [make_turn(0, "Hamlet", "This castle is cold tonight.", present=spec.cast)]
    castle = "Elsinore is the royal castle of Denmark, windy and cold on its cliff."
    page, fmt = yorick.prompt(said, spec.setting)
    assert fmt == "page" and castle in page
    yorick.settings = AgentSettings(prompt_format="chat")
    chat, fmt = yorick.prompt(said, spec.setting)
    assert fmt == "chat" and castle in chat and "<|im_start|>" in chat
    quiet, _ = yorick.prompt([make_turn(0, "Hamlet", "Hm.", present=spec.cast)], spec.setting)
    assert castle not in quiet and "cannot move on his own" in quiet  # the constant entry
    store.close()
