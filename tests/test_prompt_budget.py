"""Every prompt fits the model's context (agents/budget.py): a prompt that fits is left
as the renderer made it, byte for byte; one that does not is cut part by part, with a
note, and still fits: a 100 KB setting, a 120 KB greeting, a small context."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from dramatis.agents.budget import (
    SHARES,
    allocate,
    cut_parts,
    fit_cards,
    fit_items,
    part_costs,
    prompt_room,
    trim_text,
    water_fill,
)
from dramatis.agents.character import AgentSettings, CharacterAgent
from dramatis.agents.fake_backend import FakeModel
from dramatis.agents.turn import make_turn
from dramatis.personas import find_persona
from dramatis.personas.cards import card_persona

DATA = Path(__file__).parent / "data"
CARDS = Path(__file__).parent / "fixtures" / "cards"
SETTING = "A hall in a castle, late at night."
CAST2 = ["Hamlet", "Ophelia"]
LINES = [
    "What news, my lord?",
    "The King is up, and walks.",
    "Then we must follow him.",
    "I fear the night.",
    "Good Ophelia, stay.",
    "I will, my lord.",
    "Hark, a knocking.",
]


def words(text: str) -> int:
    return len(text.split())


class Voice:
    def examples(self, speaker, context, k):
        return [("Polonius", f"What do you read {i}?", "Words, words, words.") for i in range(k)]


class Memory:
    def recall(self, character, cue, k):
        return ["Polonius is dead.", 'Laertes said: "Farewell."']


class SmallContext(FakeModel):
    """The fake model with a context of `n` tokens (its tokens are words)."""

    def __init__(self, n: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.n = n

    @property
    def context_length(self) -> int:
        return self.n


def personas(names):
    return [
        card_persona(json.loads((CARDS / n).read_text()))
        if n.endswith(".json")
        else find_persona(n)
        for n in names
    ]


# The scenes whose prompts tests/data/default_prompts.json holds, rendered by the
# renderer before prompts had budgets (the commit before agents/budget.py).
CASES = [
    ("page-4", ["Hamlet", "Ophelia", "Macbeth", "Lady Macbeth"], "page", True, False, 6),
    ("page-2-novoice", ["Hamlet", "Horatio"], "page", False, False, 3),
    ("page-memory", ["Ophelia", "Laertes"], "page", True, True, 7),
    ("page-card", ["yorick_v2.json", "Hamlet"], "page", False, False, 5),
    ("page-card-v3", ["brigid_v3.json", "Hamlet"], "page", False, False, 5),
    ("chat-2", ["Hamlet", "Ophelia"], "chat", False, True, 4),
    ("script-2", ["Hamlet", "Ophelia"], "script", False, True, 4),
    ("page-empty", ["Hamlet", "Ophelia"], "page", True, False, 0),
]


def rendered_cases(model_for=lambda: FakeModel(chat=True)) -> dict[str, str]:
    out = {}
    for label, names, fmt, voice, memory, n in CASES:
        cast_personas = personas(names)
        cast = [p.name for p in cast_personas]
        for p in cast_personas:
            agent = CharacterAgent(
                p,
                model_for(),
                cast=cast,
                settings=AgentSettings(prompt_format=fmt),
                voice=Voice() if voice else None,
                memory=Memory() if memory else None,
                persons=[q.card() for q in cast_personas],
            )
            turns = [
                make_turn(
                    i,
                    cast[(i + 1) % len(cast)],
                    LINES[i % len(LINES)] + (" Lamp and tide." if i == 2 else ""),
                    present=cast,
                )
                for i in range(n)
            ]
            out[f"{label}/{p.name}"] = agent.prompt(turns, SETTING)[0]
    return out


def test_prompts_that_fit_are_byte_for_byte_what_the_renderer_made_before_budgets():
    before = json.loads((DATA / "default_prompts.json").read_text(encoding="utf-8"))
    now = rendered_cases()
    assert set(now) == set(before) and len(now) == 18
    for key, prompt in before.items():
        assert now[key] == prompt, key


def test_room_leaves_the_speech_and_its_run_on():
    assert prompt_room(2048, 60, 24) == 2048 - 84 - 8
    assert prompt_room(512, 400, 24) == 512 - 256 - 8  # a speech takes half at most


def test_trim_text_cuts_between_words_and_marks_the_cut():
    text = "The night is cold. The guard has changed. Nothing stirs in the hall tonight."
    head = trim_text(text, 9, words)
    assert words(head) <= 9 and head.endswith("…")
    assert head == "The night is cold. The guard has changed. …"  # a sentence end in reach
    tail = trim_text(text, 5, words, keep="tail")
    assert tail == "… in the hall tonight." and words(tail) <= 5
    assert trim_text(text, 100, words) == text
    assert trim_text(text, 1, words) == ""


def test_lists_lose_whole_items_and_cards_share_what_is_left():
    assert fit_items(["a b", "c d e", "f"], 7, words, cost=1) == ("a b", "c d e")
    assert fit_items(["a b c d"], 3, words) == ()
    assert water_fill([10, 100, 100], 110) == [10, 50, 50]
    cards = ("Ophelia, daughter to Polonius.", "Yorick: " + "a jester of infinite jest. " * 50)
    kept = fit_cards(cards, 40, words)
    assert kept[0] == cards[0] and kept[1].endswith("…") and sum(words(c) + 1 for c in kept) <= 40


def test_allocate_meets_small_wants_and_shares_the_rest():
    wants = dict.fromkeys(
        ("transcript", "persons", "summary", "setting", "lore", "examples", "memories"), 0
    )
    wants |= {"samples": 0, "instructions": 0, "transcript": 60, "setting": 28000, "examples": 82}
    give = allocate(wants, 440)
    assert give["transcript"] == 60 and give["examples"] == 82  # small wants met whole
    assert give["setting"] == 440 - 60 - 82 and sum(give.values()) == 440


def hamlet(model, **settings) -> CharacterAgent:
    cast = ["Hamlet", "Ophelia"]
    return CharacterAgent(
        find_persona("Hamlet"),
        model,
        cast=cast,
        settings=AgentSettings(**settings),
        voice=Voice(),
        persons=[find_persona(n).card() for n in cast],
    )


def test_a_100_kb_setting_is_cut_to_fit_with_a_note_and_the_talk_kept():
    setting = "The hall is vast and cold, and the torches gutter. " * 2000  # ~100 KB
    assert len(setting) > 100_000
    agent = hamlet(SmallContext(512))
    turns = [make_turn(i, ["Ophelia", "Hamlet"][i % 2], LINES[i], present=CAST2) for i in range(4)]
    prompt, _ = agent.prompt(turns, setting)
    assert words(prompt) <= agent.room() == 512 - (60 + 8) - 8  # speech and run-on, margin
    assert prompt.endswith("\nHAMLET:") and "HAMLET: I fear the night." in prompt
    assert "HAMLET, son to the former King of Denmark" in prompt  # the persons whole
    notes = agent.take_notes()
    assert notes and notes[0].startswith("Hamlet's prompt: setting cut from 20000 to ")
    assert notes[0].endswith("tokens to fit the 512-token context")
    agent.prompt(turns, setting)
    assert agent.take_notes() == []  # a part's note is shown once


def test_a_120_kb_greeting_keeps_its_end_and_the_prompt_fits():
    greeting = "Welcome, traveller, to the inn at the edge of the world. " * 2200
    assert len(greeting) > 120_000
    agent = hamlet(SmallContext(2048))
    turns = [make_turn(0, "Ophelia", greeting, source="card", present=CAST2)]
    fit = agent.fit(turns, SETTING)
    assert fit.tokens <= agent.room() and words(fit.text) <= 2048 - 84
    said = fit.input.history[-1]["text"]
    assert said.startswith("… ") and greeting.endswith(said[2:])
    assert [t.part for t in fit.trims][0] == "transcript"


def test_every_format_fits_a_small_context_with_everything_long():
    long = "word " * 5000
    for fmt in ("page", "chat", "script"):
        model = SmallContext(512, chat=True)
        agent = CharacterAgent(
            find_persona("Hamlet"),
            model,
            cast=["Hamlet", "Ophelia"],
            settings=AgentSettings(prompt_format=fmt, max_tokens=60),
            voice=Voice(),
            memory=Memory(),
            persons=[long, long],
        )
        turns = [make_turn(i, "Ophelia", long, present=CAST2) for i in range(3)]
        prompt, used = agent.prompt(turns, long)
        assert used == fmt and words(prompt) <= agent.room(), fmt


def test_a_context_too_small_for_the_frame_is_one_clear_error():
    from dramatis.core.errors import DramatisError

    agent = hamlet(SmallContext(16), max_tokens=60)
    with pytest.raises(DramatisError, match="context is too small.*raise DRAMATIS_N_CTX"):
        agent.prompt([make_turn(0, "Ophelia", "Speak.", present=[])], SETTING)


def test_stage_on_the_real_model_fits_a_100_kb_setting_in_a_512_token_context(tmp_path):
    """The real path: `dramatis stage` on the bundled model, llama.cpp's own tokenizer,
    a 100 KB --setting and the smallest context allowed; it speaks and notes the cut."""
    setting = "The hall is vast and cold, and the torches gutter. " * 2000
    env = {**os.environ, "DRAMATIS_HOME": str(tmp_path / "home"), "DRAMATIS_N_CTX": "512"}
    env["DRAMATIS_THREADS"] = "1"
    run = subprocess.run(
        [sys.executable, "-m", "dramatis", "stage", "--cast", "Hamlet,Ophelia", "--turns", "2"]
        + ["--setting", setting, "--set", "best_of=1", "--max-tokens", "16"]
        + ["--stage-voice", "0", "--out", str(tmp_path / "run")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert (
        "prompt: setting cut from " in run.stdout and "to fit the 512-token context" in run.stdout
    )
    saved = (tmp_path / "run" / "transcript.jsonl").read_text().splitlines()
    assert len(saved) == 2 and "2 turns" in run.stdout


def test_a_casts_exchanges_lose_whole_exchanges_from_the_end():
    """examples_place "scene": over its share, the cast's exchanges lose the last
    member's last exchange first, so what stays is a prefix of what every page shows."""
    from dramatis.agents.prompts import PromptInput

    ex = ("Polonius", "What do you read, my lord?", "Words, words, words.")  # 10 words + 6
    p = PromptInput(
        speaker="Hamlet", summary="", samples=("A sample line.",), setting="", cast=("Hamlet", "Ophelia"),
        history=(), scene_examples=(("Hamlet", (ex, ex)), ("Ophelia", (ex, ex))),
    )  # fmt: skip
    assert part_costs(p, words)["examples"] == 4 * 16 and part_costs(p, words)["samples"] == 0
    caps = dict.fromkeys(SHARES, 1000) | {"examples": 3 * 16}
    cut = cut_parts(p, caps, words)
    assert cut.scene_examples == (("Hamlet", (ex, ex)), ("Ophelia", (ex,)))
    caps["examples"] = 2 * 16
    assert cut_parts(p, caps, words).scene_examples == (("Hamlet", (ex, ex)),)
    # "both": the speaker's own exchanges of the turn get what the cast's leave
    both = replace(p, examples=(ex, ex))
    caps["examples"] = 5 * 16
    cut = cut_parts(both, caps, words)
    assert len(cut.scene_examples[1][1]) == 2 and cut.examples == (ex,)
