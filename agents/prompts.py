"""Prompt formats: page (every model), chat (instruction-tuned) and script (base).

The page format renders a page of the play itself: the persons of the scene as a
list of persons gives them, the setting, the staged scene so far, then what the
speaker has in mind (real exchanges of theirs like the current talk, memories, lore)
as one bracketed stage line each, and the speaker's heading. It holds no instruction
and no word from outside the world of the play (OUT_OF_WORLD), so a small model has
nothing to narrate about: it can only go on with the scene. Instruct models get the
page as plain text, without their chat template.

A chat model gets the scene and the transcript, then who speaks now and how; a base
model continues a play script ("HORATIO: ...\\nHAMLET:"). The format is chosen per
model: whichever it can follow.

Order is what lets llama.cpp reuse work. Every format puts what stays the same first
and what changes every turn last: the page's persons (and a speaker's fixed voice
samples, shown only when no real exchanges are) come before the transcript, and the
exchanges, which are picked again every turn, come after it. A character's next
prompt then shares its last one up to the end of the transcript it saw, and the
prefix saved for its adapter (agents/prefix_cache.py) spares all of that; without
adapters, consecutive prompts of different speakers share it in the one context.
Only the new speeches and the bracketed lines are evaluated again
(benchmarks/prefix_reuse.py measures it; docs/architecture.md has the figure). With
`examples_place` "scene" every cast member's exchanges, picked once by the setting, sit
above the transcript instead, so every speaker's page is the same up to its heading and
a turn evaluates little more than the speech said since the last; it costs the voice
(docs/fidelity.md, round 10), so it is a setting, not the default.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from dramatis.agents.model import Message
from dramatis.agents.turn import Turn
from dramatis.personas.world_info import lore_layout


@dataclass(frozen=True)
class PromptInput:
    speaker: str
    summary: str  # the persona card: who they are, from which play (Persona.card)
    samples: tuple[str, ...]  # a few of the character's own lines, as voice examples
    setting: str
    cast: tuple[str, ...]  # everyone in the scene, speaker included
    history: tuple[Turn, ...]  # what THIS character saw, oldest first, already windowed
    memories: tuple[str, ...] = ()  # in-world lines the speaker recalls (memory room)
    persons: tuple[str, ...] = ()  # the cast's cards, for the page's list of persons
    lore: str = ""  # lorebook entries the recent turns bring in (already in `summary`)
    # (entry text, place, depth) of those entries: where the page puts each line of `lore`
    # (personas/world_info.py: SillyTavern's positions); a line without one goes last
    lore_places: tuple[tuple[str, str, int], ...] = ()
    # (cue speaker, cue, reply): the speaker's real exchanges like the current talk
    examples: tuple[tuple[str, str, str], ...] = ()
    # (member, their exchanges) for every cast member, shown above the transcript and the
    # same all scene (AgentSettings.examples_place "scene", or "both" beside `examples`)
    scene_examples: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...] = ()
    # An imported card's own instructions, chat format only ("{{original}}": ours)
    system_prompt: str = ""
    post_history: str = ""


def recollection(p: PromptInput) -> str:
    """The speaker's memories as one bracketed stage line, or "".

    -> "[Ophelia remembers: Polonius is dead. Laertes said: "Farewell."]"
    """
    return f"[{p.speaker} remembers: {' '.join(p.memories)}]" if p.memories else ""


def exchanges_line(p: PromptInput) -> str:
    """The speaker's real exchanges like the current talk, as one bracketed stage line
    (like `recollection`) holding them as script, or "". Rendered so rather than as
    "Polonius said, ..." (the model then wrote "he said" and quotation marks into
    speeches: 3 of 24 against 0 of 24, on Gemma 3 270M).

    -> "[Hamlet remembers: POLONIUS: What do you read, my lord? HAMLET: Words, words, words.]"
    """
    return remembered(p.speaker, p.examples)


def remembered(name: str, examples: Sequence[tuple[str, str, str]]) -> str:
    """`name`'s real exchanges as one bracketed stage line (`exchanges_line`), or ""."""
    said = [
        f"{cue_speaker.upper()}: {one_line(cue)} {name.upper()}: {one_line(reply)}"
        for cue_speaker, cue, reply in examples
    ]
    return f"[{name} remembers: {' '.join(said)}]" if said else ""


# Words that belong to talk about a play, not to talk in one: a page holds none.
OUT_OF_WORLD = (
    "shakespeare",
    "character",
    "speech",
    "play",
    "playwright",
    "author",
    "audience",
    "reader",
    "scene from",
    "style",
    "write",
    "reply",
    "respond",
    "dialogue",
)

# Arabic numerals: the plays' speeches spell numbers out ("the nine-and-twentieth day"; 8
# of their 30,697 speeches hold a digit), so a speech samples none (with OUT_OF_WORLD).
NUMERALS = tuple("0123456789")


class VoiceSource(Protocol):
    """Real exchanges of a character like the current context (memory.voice.PlayVoices)."""

    def examples(self, speaker: str, context: str, k: int) -> list[tuple[str, str, str]]: ...

    def own_words(self, speaker: str) -> tuple[str, ...]:
        """Words `speaker` uses far more than the rest of its play (() when unknown)."""
        ...

    def knows(self, name: str) -> bool:
        """Whether `name` is a character of the scene, not its user (whose exchanges, if
        a play has someone of that name, are not theirs)."""
        ...


def fit_history(
    turns: Sequence[Turn], budget: int, count_tokens: Callable[[str], int], block: int = 8
) -> list[Turn]:
    """The newest turns that fit `budget` tokens (each costs its text + 4), oldest first.

    The newest turn is kept even when it alone is over budget. The window's start
    moves in steps of `block` turns, so that consecutive prompts share their prefix
    for several turns instead of shifting by one every turn.
    fit_history([t0..t9], budget fits 5, count, block=4) -> [t8, t9]  (start 5 -> 8)
    """
    start, spent = len(turns), 0
    while start > 0:
        cost = count_tokens(turns[start - 1]["text"]) + 4
        if spent + cost > budget and start < len(turns):
            break
        spent += cost
        start -= 1
    if start > 0:
        start = min(-(-start // block) * block, len(turns) - 1)
    return list(turns[start:])


def transcript_lines(history: Sequence[Turn]) -> str:
    """Turns as script lines.

    [{"speaker": "Ophelia", "text": "My lord?"}] -> "OPHELIA: My lord?"
    """
    return "\n".join(f"{t['speaker'].upper()}: {' '.join(t['text'].split())}" for t in history)


CHAT_INSTRUCTION = (
    "You write one speech at a time for a scene in the style of William Shakespeare: "
    "one short speech of one to three sentences, in Shakespeare's English, by the "
    "character named, never lines for anyone else, and no stage directions."
)
ORIGINAL = re.compile(r"\{\{\s*original\s*\}\}", re.IGNORECASE)


def card_instruction(own: str, ours: str) -> str:
    """A card's instruction in place of ours, where `{{original}}` stands for ours.

    card_instruction("{{original}} Stay playful.", "Speak.") -> "Speak. Stay playful."
    card_instruction("Be brief.", "Speak.") -> "Be brief."; card_instruction("", "Speak.") -> "Speak."
    """
    if not own.strip():
        return ours
    return ORIGINAL.sub(lambda _: ours, own).strip()


def chat_messages(p: PromptInput) -> list[Message]:
    """System: the instruction and the scene. User: the transcript, then the speaker's
    card, then the request (see the module docstring for why in that order). A card's
    `system_prompt` and `post_history_instructions` stand in for our instruction and
    request; the system message then differs for that speaker."""
    instruction = card_instruction(p.system_prompt, CHAT_INSTRUCTION)
    system = f"{instruction}\nScene: {p.setting}\nOn stage: {', '.join(p.cast)}."
    said = transcript_lines(p.history) or "(The scene begins.)"
    samples = "\n".join(f"- {s}" for s in p.samples)
    card = f"Now {p.speaker} speaks. {p.summary}\nLines {p.speaker} has spoken before:\n{samples}"
    if p.memories:
        card += "\n" + recollection(p)
    request = f"What does {p.speaker} say next? Reply with the speech only."
    user = f"{said}\n\n{card}\n\n{card_instruction(p.post_history, request)}"
    return [Message("system", system), Message("user", user)]


def script_prompt(p: PromptInput) -> str:
    """A play script that a base model continues with the speaker's line."""
    samples = " ".join(p.samples[:3])
    lines = [
        "A scene from a play in the style of William Shakespeare.",
        f"Setting: {p.setting}",
        f"{p.speaker}: {p.summary} {p.speaker} is wont to say: {samples}",
        "",
    ]
    said = transcript_lines(p.history)
    memory = recollection(p)
    tail = [*([said] if said else []), *([memory] if memory else []), f"{p.speaker.upper()}:"]
    return "\n".join([*lines, *tail])


def out_of_world_words(text: str) -> list[str]:
    """The OUT_OF_WORLD words in `text` (whole words, any case).

    out_of_world_words("A scene in the style of Shakespeare") -> ["shakespeare", "style"]
    """
    low = text.lower()
    return [w for w in OUT_OF_WORLD if re.search(rf"\b{re.escape(w)}\b", low)]


def one_line(text: str) -> str:
    """A speech on one line.

    one_line("To be,\n or not") -> "To be, or not"
    """
    return " ".join(text.split())


def person_line(card: str) -> str:
    """A card as a line of a list of persons: the name in capitals, then who they are.
    An imported card's "Name: description" becomes "NAME, description", so the list
    never shows a speech heading; a card without a short name first stays as it is.

    person_line("Ophelia, daughter to Polonius.") -> "OPHELIA, daughter to Polonius."
    person_line("Yorick: the King's jester.") -> "YORICK, the King's jester."
    """
    found = re.match(r"\s*([^,:.]+?)\s*([,:.]|$)\s*", card)
    if found is None or len(found[1].split()) > 4:
        return card
    rest = card[found.end() :]
    return f"{found[1].upper()}, {rest}" if rest else f"{found[1].upper()}."


def page_prompt(p: PromptInput) -> str:
    """A page of the play that any model continues with the speaker's next speech:
    persons, (fixed voice samples, or the whole cast's exchanges with `scene_examples`,)
    setting and transcript, then the bracketed lines that change every turn, then the
    heading (see the module docstring for the order)."""
    persons = [person_line(card) for card in p.persons] or [f"{p.speaker.upper()}."]
    if p.scene_examples:  # every member's, the same for every speaker: no sample of one's own
        fixed = [remembered(name, examples) for name, examples in p.scene_examples]
    elif p.examples:
        fixed = []
    else:
        fixed = [f"{p.speaker.upper()}: {one_line(s)}" for s in p.samples[:3]]
    lore = lore_layout(p.lore, p.lore_places)  # an imported card's lore, by its position
    around = (lore.before_examples, lore.after_examples)  # the examples shown: either
    fixed = [around[0], *fixed, around[1]] if not p.examples else fixed
    near = (around[0], exchanges_line(p), around[1]) if p.examples else ()
    script = lore.into_script(transcript_lines(p.history).splitlines())
    blocks = [
        "\n".join(x for x in (lore.before_char, *persons, lore.after_char) if x),
        "\n".join(x for x in fixed if x),
        "\n".join([one_line(p.setting), *script]).rstrip(),
    ]
    tail = [line for line in (*near, recollection(p)) if line]
    return "\n".join(["\n\n".join(b for b in blocks if b), *tail, f"{p.speaker.upper()}:"])
