"""Prompt budgets: every prompt fits the model's context by construction.

A prompt may take the context less the room a speech needs (its `max_tokens` and the
run-on to a sentence's end) and a small margin (`prompt_room`). A prompt within that
room is left exactly as it was rendered. One over it is cut part by part: each part of
the `PromptInput` (the persons, the speaker's card, the setting, the transcript, lore,
exchanges, memories, ...) gets a share of the room (`SHARES`); a part that needs less
gives what it does not use to the others, in the order of `PRIORITY`. Texts are cut
at a word (and where it can, a sentence) with "…" where they were cut; lists (voice
samples, example blocks, memories, lore entries) lose whole items, never half of one;
the transcript loses its oldest turns, and a single turn over its share keeps its end.
The result is rendered and measured again, and cut further until it fits: a `Fit`
says what was cut (`Trim`), for a note on screen and for `dramatis prompt`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from dramatis.agents.prompts import PromptInput, fit_history
from dramatis.agents.turn import Turn
from dramatis.core.errors import DramatisError

Count = Callable[[str], int]
MARGIN = 8  # tokens kept free: BOS, and tokens that merge where two parts meet
ELLIPSIS = "…"

# Each part's share of the prompt's room when the whole prompt is over it. They add up
# to more than 1 on purpose: parts seldom all want their full share at once, and what
# is over the room is taken back below, in reverse PRIORITY order.
SHARES = {
    "transcript": 0.40,
    "persons": 0.25,
    "summary": 0.15,
    "setting": 0.10,
    "lore": 0.25,  # SillyTavern's default world-info budget: a quarter of the context
    "examples": 0.08,
    "memories": 0.06,
    "samples": 0.06,
    "instructions": 0.05,
}
# Who loses first when the shares alone are over the room: the last.
PRIORITY = tuple(SHARES)


@dataclass(frozen=True)
class Trim:
    """One part cut to fit: how many tokens it wanted and how many it kept."""

    part: str
    wanted: int
    kept: int


@dataclass(frozen=True)
class Fit:
    """A prompt's input as it fits `room` tokens, and what was cut to make it fit."""

    input: PromptInput
    room: int
    tokens: int  # the rendered prompt's
    text: str  # the rendered prompt
    format: str  # the format it was rendered in ("page", "chat", "script")
    trims: tuple[Trim, ...] = ()

    def notes(self, context: int) -> list[str]:
        """One line per part cut, for the screen.

        -> ["Hamlet's prompt: setting cut from 25611 to 183 tokens to fit the 2048-token context"]
        """
        who = self.input.speaker
        return [
            f"{who}'s prompt: {t.part} cut from {t.wanted} to {t.kept} tokens to fit the "
            f"{context}-token context"
            for t in self.trims
        ]


def prompt_room(context: int, max_tokens: int, finish_tokens: int = 0) -> int:
    """Tokens a prompt may take in `context`: what the speech and its run-on leave (at
    most half the context goes to them), less MARGIN.

    prompt_room(2048, 60, 24) -> 1956; prompt_room(64, 60, 24) -> 24
    """
    speech = min(max_tokens + finish_tokens, context // 2)
    return context - speech - MARGIN


def trim_text(text: str, limit: int, count: Count, *, keep: str = "head") -> str:
    """`text` in at most `limit` tokens, cut between words, marked with "…"; keeping its
    head ends it at a sentence's end when one falls in the kept text's last third.

    trim_text("One. Two three four.", 3, words) -> "One. Two …"; keep="tail" -> "… three four."
    """
    if count(text) <= limit:
        return text
    if limit <= 1:
        return ""
    words = text.split(" ")
    if keep == "tail":
        words = words[::-1]
    low, high = 0, min(len(words), limit + 1)  # a word is a token or more
    while low < high:  # the most words whose text (with the mark) fits
        mid = (low + high + 1) // 2
        if count(_joined(words[:mid], keep)) <= limit:
            low = mid
        else:
            high = mid - 1
    if low == 0:
        return ""
    kept = words[:low]
    if keep == "tail":
        return _joined(kept, keep)
    head = " ".join(kept)
    ends = [m.end() for m in re.finditer(r"[.!?][\"')\]*]*(?=\s|$)", head)]
    if ends and ends[-1] >= len(head) * 2 // 3:
        head = head[: ends[-1]]
    return f"{head} {ELLIPSIS}"


def _joined(words: Sequence[str], keep: str) -> str:
    """Words kept from a text's head (or, reversed, its tail), with the cut marked."""
    if keep == "tail":
        return f"{ELLIPSIS} {' '.join(reversed(words))}"
    return f"{' '.join(words)} {ELLIPSIS}"


def fit_items(items: Sequence[str], limit: int, count: Count, cost: int = 2) -> tuple[str, ...]:
    """The first items that fit `limit` tokens together (each costs its text + `cost`):
    whole items only.

    fit_items(["a b", "c d e", "f"], 6, words, cost=1) -> ("a b", )
    """
    kept, spent = [], 0
    for item in items:
        spent += count(item) + cost
        if spent > limit:
            break
        kept.append(item)
    return tuple(kept)


def fit_cards(cards: Sequence[str], limit: int, count: Count) -> tuple[str, ...]:
    """Every card kept, within `limit` tokens together: short cards whole, and the room
    they leave shared among the long ones, each cut at its end."""
    if not cards:
        return ()
    costs = [count(c) + 1 for c in cards]
    caps = water_fill(costs, limit)
    return tuple(
        c if cost <= cap else trim_text(c, cap - 1, count)
        for c, cost, cap in zip(cards, costs, caps, strict=True)
    )


def water_fill(wants: Sequence[int], limit: int) -> list[int]:
    """Shares of `limit` for `wants`: a want under an even share is met in full, and
    what it leaves goes evenly to the others.

    water_fill([10, 100, 100], 110) -> [10, 50, 50]
    """
    caps = [0] * len(wants)
    open_ = sorted(range(len(wants)), key=lambda i: wants[i])
    left = max(limit, 0)
    while open_:
        even = left // len(open_)
        i = open_[0]
        if wants[i] <= even:
            caps[i] = wants[i]
            left -= wants[i]
            open_.pop(0)
            continue
        for j in open_:
            caps[j] = even
        break
    return caps


# The parts each format renders (agents/prompts.py); the others cost nothing there.
RENDERED = {
    "page": {"transcript", "persons", "setting", "lore", "examples", "memories", "samples"},
    "chat": {"transcript", "summary", "setting", "memories", "samples", "instructions"},
    "script": {"transcript", "summary", "setting", "memories", "samples"},
}


def part_costs(p: PromptInput, count: Count, fmt: str = "page") -> dict[str, int]:
    """Tokens each part of `p` takes in format `fmt`, as its text counts (without the
    format's frame); a part the format does not render costs 0."""
    shown = RENDERED.get(fmt, RENDERED["chat"])
    samples = p.samples
    if fmt in ("page", "script"):  # they show three at most, and the page none beside exchanges
        samples = () if fmt == "page" and (p.examples or p.scene_examples) else samples[:3]
    costs = {
        "transcript": sum(count(t["text"]) + 4 for t in p.history),
        "persons": sum(count(c) + 1 for c in p.persons),
        "summary": count(p.summary) if p.summary else 0,
        "setting": count(p.setting) if p.setting else 0,
        "lore": count(p.lore) if p.lore else 0,
        "examples": sum(
            count(" ".join(e)) + 6
            for e in (*p.examples, *(e for _, ex in p.scene_examples for e in ex))
        ),
        "memories": sum(count(m) + 2 for m in p.memories),
        "samples": sum(count(s) + 4 for s in samples),
        "instructions": sum(count(t) for t in (p.system_prompt, p.post_history) if t),
    }
    return {k: v if k in shown else 0 for k, v in costs.items()}


def allocate(wants: dict[str, int], room: int) -> dict[str, int]:
    """Each part's tokens within `room`: its want up to its share (SHARES), then what is
    left shared evenly among the parts that want more (`water_fill`); when the shares
    alone are over the room, the last parts in PRIORITY lose first.

    allocate({"transcript": 5000, "setting": 20, others 0}, 1000) -> {"transcript": 980, "setting": 20, ...}
    """
    room = max(room, 0)
    give = {k: min(w, int(SHARES[k] * room)) for k, w in wants.items()}
    for part in reversed(PRIORITY):  # shares add up to more than the room
        over = sum(give.values()) - room
        if over <= 0:
            break
        give[part] -= min(over, give[part])
    short = [wants[k] - give[k] for k in PRIORITY]  # what each still wants
    for part, more in zip(PRIORITY, water_fill(short, room - sum(give.values())), strict=True):
        give[part] += more
    return give


def cut_parts(p: PromptInput, caps: dict[str, int], count: Count) -> PromptInput:
    """`p` with every part cut to its cap (`allocate`)."""

    def text(value: str, part: str) -> str:
        return trim_text(value, caps[part], count) if value else value

    instructions = caps["instructions"] // 2
    # A cast's exchanges (examples_place "scene") lose whole exchanges from the end: the
    # last member's last first, so what is kept stays a prefix of what every page shows.
    # The speaker's own of the turn ("both") get what they leave.
    flat = [(name, e) for name, ex in p.scene_examples for e in ex]
    kept = fit_items([" ".join(e) for _, e in flat], caps["examples"], count, cost=6)
    scene: dict[str, list[tuple[str, str, str]]] = {}
    for name, e in flat[: len(kept)]:
        scene.setdefault(name, []).append(e)
    left = caps["examples"] - sum(count(k) + 6 for k in kept)
    examples = [" ".join(e) for e in p.examples]
    return replace(
        p,
        history=tuple(fit_turns(p.history, caps["transcript"], count)),
        persons=fit_cards(p.persons, caps["persons"], count),
        summary=text(p.summary, "summary"),
        setting=text(p.setting, "setting"),
        lore="\n".join(fit_items(p.lore.splitlines(), caps["lore"], count, cost=1)),
        examples=p.examples[: len(fit_items(examples, left, count, cost=6))],
        scene_examples=tuple((name, tuple(ex)) for name, ex in scene.items()),
        memories=fit_items(p.memories, caps["memories"], count),
        samples=fit_items(p.samples, caps["samples"], count, cost=4),
        system_prompt=trim_text(p.system_prompt, instructions, count) if p.system_prompt else "",
        post_history=trim_text(p.post_history, instructions, count) if p.post_history else "",
    )


def fit_turns(turns: Sequence[Turn], limit: int, count: Count) -> list[Turn]:
    """The newest turns within `limit` tokens (fit_history), the newest cut to its end
    when it alone is over; none when not even a word of it fits."""
    kept = fit_history(turns, limit, count)
    if not kept:
        return []
    newest = kept[-1]
    if count(newest["text"]) + 4 <= limit:
        return kept
    tail = trim_text(newest["text"], limit - 4, count, keep="tail")
    return [{**newest, "text": tail}] if tail else []


def fit_prompt(
    p: PromptInput,
    room: int,
    count: Count,
    render: Callable[[PromptInput], tuple[str, str]],
    measure: Count | None = None,
) -> Fit:
    """`p` as it fits `room` tokens once rendered: unchanged when it already does, else
    cut part by part (see the module docstring); DramatisError when not even the bare
    frame (headings, no text) fits. `count` measures parts, `measure` (default: `count`)
    whole prompts."""
    measure = measure or count
    text, fmt = render(p)
    tokens = measure(text)
    if tokens <= room:
        return Fit(p, room, tokens, text, fmt)
    wants = part_costs(p, count, fmt)
    frame = max(0, tokens - sum(wants.values()))  # headings, brackets, the template
    budget = room - frame
    for _ in range(6):
        cut = cut_parts(p, allocate(wants, budget), count)
        text, fmt = render(cut)
        tokens = measure(text)
        if tokens <= room:
            kept = part_costs(cut, count, fmt)
            trims = tuple(Trim(k, wants[k], kept[k]) for k in PRIORITY if kept[k] < wants[k])
            return Fit(cut, room, tokens, text, fmt, trims)
        budget -= tokens - room + 4
    bare = measure(render(cut_parts(p, dict.fromkeys(SHARES, 0), count))[0])
    raise DramatisError(
        f"the model's context is too small: {p.speaker}'s prompt needs {bare} tokens with "
        f"nothing in it but {room} fit; raise DRAMATIS_N_CTX (or lower --max-tokens)"
    )
