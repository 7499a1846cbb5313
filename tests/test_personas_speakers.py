"""The guard's speaker list (personas/data/speakers.json) holds the identities' names."""

from __future__ import annotations

import pytest

from dramatis.agents.guard import clean_utterance, heading_cut
from dramatis.personas import load_play
from dramatis.personas.persona import play_speakers


def test_list_holds_readable_names_aliases_and_printed_headings():
    every = set(play_speakers())
    for key in ("henry_iv_part_1", "richard_iii", "antony_and_cleopatra"):
        play = load_play(key)
        for speech in play.speeches():
            if speech.resolved and len(speech.speaker) > 1:
                assert speech.speaker in every, (key, speech.speaker)
        for character in play.characters.values():
            for alias in character.aliases:
                assert alias in every or len(alias) < 2, (key, alias)
    assert {
        "Richard III",
        "KING RICHARD",
        "GLOSTER",
        "King Richard",
        "Prince Henry",
        "Hal",
    } <= every
    assert {"Mark Antony", "Mistress Page", "Mistress Ford"} <= every
    # the old unreadable names are gone
    assert not {"M.antony", "MRS. Page"} & every


@pytest.mark.parametrize(
    "reply",
    [
        "Good morrow, madam.\nKING RICHARD. Madam, so thrive I in my enterprise.",
        "Good morrow, madam.\nKING RICHARD.\nMadam, so thrive I in my enterprise.",
        "Good morrow, madam.\nRichard III: Madam, so thrive I in my enterprise.",
        "Good morrow, madam.\nKing Richard: Madam, so thrive I in my enterprise.",
        "Good morrow, madam.\nGLOSTER: Madam, so thrive I in my enterprise.",
    ],
)
def test_guard_ends_a_speech_at_old_and_readable_headings(reply):
    # the cast on stage is only Queen Elizabeth and Dorset: Richard's heading is found
    # through the shipped list alone
    others = ["Marquis of Dorset", *play_speakers()]
    assert reply[: heading_cut(reply, "Queen Elizabeth", others)].rstrip() == "Good morrow, madam."
    assert clean_utterance(reply, "Queen Elizabeth", others) == "Good morrow, madam."


def test_hal_heading_ends_falstaffs_turn():
    reply = "I'll be damned for never a king's son.\nHal: Where shall we take a purse?"
    said = clean_utterance(reply, "Sir John Falstaff", play_speakers())
    assert said == "I'll be damned for never a king's son."


@pytest.mark.slow
def test_shipped_speaker_list_is_current():
    from dramatis.personas.build_speakers import main

    assert main(["--check"]) == 0, "run: python -m dramatis.personas.build_speakers"
