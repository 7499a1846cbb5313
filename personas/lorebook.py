"""Lorebooks (a card's `character_book`): which entries a conversation brings to mind.

The semantics follow the Character Card V2/V3 specs: an enabled entry fires when one of
its `keys` occurs in the last `scan_depth` messages (a `selective` entry also needs one of
its `secondary_keys`), or always when `constant`. With V3's `use_regex` the keys are
regular expressions (plain, or "/pattern/flags") and, as the V3 spec says,
`secondary_keys` and `constant` are ignored. Fired entries go into the prompt by
`insertion_order` (lower first), and when their text is over the `token_budget`, those
with the lowest `priority` (then the lowest `insertion_order`) are left out first. V3
`@@` decorator lines are taken out of the content, not applied.

SillyTavern's own rules, where its world-info files (personas/world_info.py) or its
card exports carry them: `selective_logic` says how the secondary keys count (AND ANY,
NOT ALL, NOT ANY, AND ALL), an entry's own `scan_depth` wins over the book's, and
`match_whole_words` false lets a key match inside a word. Several books (a card's own,
the world info it links, those attached to a scene) fire together within one budget
(`active_lore`), as SillyTavern scans all its books as one:

- probability: an entry that fires (constant ones too) is kept only if a roll of 0-100
  falls under its `probability` (unless `useProbability` is false). The roll is drawn
  from the turn's seed and the entry's place (its book among the character's books, its
  index in the book), so a run with the same seed draws the same lore, and a retried
  turn (another seed) draws again.
- recursion: the content of the entries that fired is scanned too, so an entry can
  bring in another one, pass after pass, for at most RECURSION_STEPS passes (SillyTavern's
  default has no cap; a chain is also bounded by its entries and the budget). An entry
  with `exclude_recursion` fires only from the talk, one with `prevent_recursion` brings
  no other in, one with `delay_until_recursion` (true or a level N) only from other
  entries' content (level by level, as SillyTavern does), and a book with
  `recursive_scanning` false takes no part in recursion. Recursion stops once the
  budget is full.

Pure functions, no I/O.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_SCAN_DEPTH = 2  # messages scanned when neither entry nor book says (SillyTavern's default)
DEFAULT_TOKEN_BUDGET = 256
RECURSION_STEPS = 5  # passes over fired entries' content after the scan of the talk


class LoreEntry(BaseModel):
    """One entry of a lorebook; unknown keys are kept (`extra="allow"`)."""

    model_config = ConfigDict(extra="allow")

    keys: list[str] = Field(default_factory=list)
    content: str = ""
    enabled: bool = True
    insertion_order: float = 0
    case_sensitive: bool | None = None
    selective: bool | None = None
    secondary_keys: list[str] = Field(default_factory=list)
    constant: bool | None = None
    priority: float | None = None
    use_regex: bool | None = None  # V3: keys are regular expressions
    name: str | None = None
    comment: str | None = None
    # SillyTavern's: how secondary keys count (SELECTIVE_LOGIC), this entry's own scan
    # depth, and whether keys match whole words only (None: the defaults). Its card
    # exports keep them in the entry's `extensions` (selectiveLogic, scan_depth, ...).
    selective_logic: int | None = None
    scan_depth: int | None = None
    match_whole_words: bool | None = None

    def option(self, field: str, exported: str) -> object:
        """A SillyTavern option: this entry's field, else its `extensions[exported]`."""
        value = getattr(self, field)
        if value is None:
            extensions = getattr(self, "extensions", None)
            value = extensions.get(exported) if isinstance(extensions, dict) else None
        return value


class Lorebook(BaseModel):
    """A card's character_book: entries plus how far back to scan and how much to insert."""

    model_config = ConfigDict(extra="allow")

    name: str | None = None
    scan_depth: int | None = None
    token_budget: int | None = None
    recursive_scanning: bool | None = None
    entries: list[LoreEntry] = Field(default_factory=list)


# SillyTavern's selectiveLogic: 0 AND ANY, 1 NOT ALL, 2 NOT ANY, 3 AND ALL
AND_ANY, NOT_ALL, NOT_ANY, AND_ALL = range(4)

SLASHED = re.compile(r"/(.+)/([a-z]*)", re.DOTALL)  # a regex key written "/pattern/flags"
REGEX_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}  # JS flags we honour


def key_matches(
    key: str, text: str, *, case_sensitive: bool, regex: bool, whole_words: bool = True
) -> bool:
    """Whether a lore key occurs in `text`: whole words (or anywhere, without
    `whole_words`), or a regular expression.

    key_matches("Elsinore", "to elsinore we go", case_sensitive=False, regex=False) -> True
    key_matches("king", "the kingdom", case_sensitive=False, regex=False) -> False
    key_matches("/king(dom)?/i", "KINGDOM", case_sensitive=True, regex=True) -> True
    """
    if not key.strip():
        return False
    flags = 0 if case_sensitive else re.IGNORECASE
    escaped = re.escape(key.strip())
    plain = rf"(?<!\w){escaped}(?!\w)" if whole_words else escaped
    pattern = key if regex else plain
    if regex and (slashed := SLASHED.fullmatch(key.strip())):
        pattern = slashed[1]
        for letter in slashed[2]:
            flags |= REGEX_FLAGS.get(letter, 0)
    try:
        return re.search(pattern, text, flags) is not None
    except re.error:
        return False  # a malformed regex key never fires


def entry_fires(entry: LoreEntry, text: str) -> bool:
    """Whether an enabled entry is triggered by the scanned `text`."""
    if not entry.enabled:
        return False
    regex = bool(entry.use_regex)  # V3: then `constant` and `secondary_keys` do not count
    if entry.constant and not regex:
        return True
    whole = entry.option("match_whole_words", "match_whole_words")
    opts = {
        "case_sensitive": bool(entry.case_sensitive),
        "regex": regex,
        "whole_words": whole is not False,
    }
    if not any(key_matches(k, text, **opts) for k in entry.keys):
        return False
    if entry.selective and entry.secondary_keys and not regex:
        found = [key_matches(k, text, **opts) for k in entry.secondary_keys]
        return secondary_pass(found, entry.option("selective_logic", "selectiveLogic"))
    return True


def secondary_pass(found: Sequence[bool], logic: object) -> bool:
    """Whether the secondary keys found (one bool per key) let a selective entry fire,
    by SillyTavern's selectiveLogic (AND ANY when unset or unknown).

    secondary_pass([True, False], AND_ANY) -> True; secondary_pass([True, False], AND_ALL) -> False
    secondary_pass([True, False], NOT_ALL) -> True; secondary_pass([True, False], NOT_ANY) -> False
    """
    if logic == NOT_ALL:
        return not all(found)
    if logic == NOT_ANY:
        return not any(found)
    if logic == AND_ALL:
        return all(found)
    return any(found)


def scanned(messages: Sequence[str], depth: int) -> str:
    """The last `depth` messages as the text keys are looked for in ("" for depth 0)."""
    return "\n".join(messages[-depth:]) if depth > 0 else ""


def without_decorators(content: str) -> str:
    """An entry's content without its V3 decorator lines ("@@depth 5", "@@@fallback").

    without_decorators("@@depth 4\nThe castle is cold.") -> "The castle is cold."
    """
    return "\n".join(line for line in content.splitlines() if not line.lstrip().startswith("@@"))


def within_budget(
    entries: Sequence[LoreEntry], budget: int, count_tokens: Callable[[str], int]
) -> list[LoreEntry]:
    """The entries that fit `budget` tokens, dropping the lowest priority first.

    Between equal priorities the lowest insertion_order goes first (the V3 spec's rule
    without priorities); the result keeps the input order.
    """
    ranked = sorted(
        range(len(entries)),
        key=lambda i: (-(entries[i].priority or 0), -entries[i].insertion_order),
    )
    kept, spent = set(), 0
    for i in ranked:
        cost = count_tokens(without_decorators(entries[i].content))
        if spent + cost <= budget:
            kept.add(i)
            spent += cost
    return [e for i, e in enumerate(entries) if i in kept]


def active_entries(
    book: Lorebook,
    messages: Sequence[str],
    count_tokens: Callable[[str], int] = lambda text: len(text.split()),
) -> list[LoreEntry]:
    """Entries the last `scan_depth` messages bring in, by insertion order, within budget.

    active_entries(book with "Yorick" -> "the king's jester", ["Alas, poor Yorick!"])
    -> [LoreEntry(keys=["Yorick"], content="the king's jester", ...)]
    """
    budget = book.token_budget if book.token_budget is not None else DEFAULT_TOKEN_BUDGET
    return within_budget(fired_entries(book, messages), budget, count_tokens)


def fired_entries(book: Lorebook, messages: Sequence[str]) -> list[LoreEntry]:
    """The entries of `book` the messages bring in (each scanning its own depth, else the
    book's), by insertion order; no budget applied."""
    default = book.scan_depth if book.scan_depth is not None else DEFAULT_SCAN_DEPTH
    fired = []
    for entry in book.entries:
        depth = entry.option("scan_depth", "scan_depth")
        depth = depth if isinstance(depth, int) and not isinstance(depth, bool) else default
        if entry_fires(entry, scanned(messages, depth)):
            fired.append(entry)
    fired.sort(key=lambda e: e.insertion_order)
    return fired


def active_lore(
    books: Sequence[Lorebook],
    messages: Sequence[str],
    budget: int,
    count_tokens: Callable[[str], int],
    *,
    seed: int = 0,
    steps: int = RECURSION_STEPS,
) -> list[LoreEntry]:
    """The entries several books bring in together (`scan_books`: the talk, recursion,
    probability drawn from `seed`), by insertion order, within `budget` tokens (a book's
    own smaller token_budget bounds its entries first).

    active_lore([card book, world book], ["Alas, poor Yorick!"], 400, count) -> [...]
    """
    fired = scan_books(books, messages, budget, count_tokens, seed=seed, steps=steps)
    chosen: list[LoreEntry] = []
    for book in books:
        own = book.token_budget if book.token_budget is not None else budget
        mine = [e for e in fired if any(e is x for x in book.entries)]
        chosen += within_budget(mine, min(own, budget), count_tokens)
    chosen.sort(key=lambda e: e.insertion_order)
    return within_budget(chosen, budget, count_tokens)


def st_option(entry: LoreEntry, field: str, exported: str, kind: type | tuple[type, ...]) -> object:
    """A SillyTavern option kept on an entry (a world-info file's, under `field`) or in
    its `extensions` (a card export's, under `exported`); None when absent or of another
    type (a card's odd value is ignored, as SillyTavern falls back to its default).

    st_option(LoreEntry(extensions={"probability": 40}), "probability", "probability", (int, float)) -> 40
    """
    value = getattr(entry, field, None)
    if value is None:
        extensions = getattr(entry, "extensions", None)
        value = extensions.get(exported) if isinstance(extensions, dict) else None
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        return None
    return value if isinstance(value, kind) else None


def kept_by_chance(entry: LoreEntry, seed: int, where: str) -> bool:
    """Whether a fired entry survives its probability roll: a draw of 0-100 from the
    turn's seed and the entry's place (`where`), kept when under `probability`.
    Always kept without a probability below 100 or with `useProbability` false.

    kept_by_chance(LoreEntry(probability=0), 7, "book:0") -> False
    kept_by_chance(LoreEntry(probability=100), 7, "book:0") -> True
    """
    chance = st_option(entry, "probability", "probability", (int, float))
    use = st_option(entry, "use_probability", "useProbability", bool)
    if use is False or not isinstance(chance, (int, float)) or chance >= 100:
        return True
    return random.Random(f"{seed}:{where}").random() * 100 < chance


def recursion_flags(entry: LoreEntry) -> tuple[bool, bool, int]:
    """(exclude_recursion, prevent_recursion, delay level; 0: not delayed) of an entry."""
    exclude = st_option(entry, "exclude_recursion", "exclude_recursion", bool) is True
    prevent = st_option(entry, "prevent_recursion", "prevent_recursion", bool) is True
    delay = st_option(entry, "delay_until_recursion", "delay_until_recursion", (bool, int))
    if isinstance(delay, bool):
        return exclude, prevent, int(delay)
    return exclude, prevent, max(delay, 0) if isinstance(delay, int) else 0


def entry_depth(entry: LoreEntry, book: Lorebook) -> int:
    """How many of the last messages an entry scans: its own scan depth, else its book's."""
    depth = entry.option("scan_depth", "scan_depth")
    if isinstance(depth, int) and not isinstance(depth, bool):
        return depth
    return book.scan_depth if book.scan_depth is not None else DEFAULT_SCAN_DEPTH


def scan_books(
    books: Sequence[Lorebook],
    messages: Sequence[str],
    budget: int,
    count_tokens: Callable[[str], int],
    *,
    seed: int = 0,
    steps: int = RECURSION_STEPS,
) -> list[LoreEntry]:
    """The entries of several books the talk brings in, as SillyTavern scans them: the
    talk first, then (recursion) the content of what fired, pass after pass, each fired
    entry kept by its probability roll; unordered, before the final budget.

    A pass that fires nothing new ends the scan unless delayed entries wait for a higher
    level; a pass whose entries overflow `budget` ends it too (what fits is kept)."""
    pool = [
        (b, f"{k}:{b.name}:{i}", e)  # the book's place, name and the entry's index
        for k, b in enumerate(books)
        for i, e in enumerate(b.entries)
        if e.enabled
    ]
    flags = [recursion_flags(e) for _, _, e in pool]
    levels = sorted({level for _, _, level in flags if level})
    level = levels.pop(0) if levels else 0
    done: set[int] = set()  # fired and kept, or failed their roll: never looked at again
    kept: list[int] = []
    echo: list[str] = []  # fired content scanned by the recursive passes
    recursing = False

    for _ in range(1 + max(steps, 0)):
        found = []
        for n, (book, _, entry) in enumerate(pool):
            exclude, _, delay = flags[n]
            if n in done or (delay and (not recursing or delay > level)):
                continue
            if recursing and (exclude or book.recursive_scanning is False):
                continue
            text = scanned(messages, entry_depth(entry, book))
            if recursing and echo:
                text = text + "\n" + "\n".join(echo)
            if entry_fires(entry, text):
                found.append(n)
        done.update(found)
        lucky = [n for n in found if kept_by_chance(pool[n][2], seed, pool[n][1])]
        room = within_budget([pool[n][2] for n in kept + lucky], budget, count_tokens)
        fits = {id(e) for e in room}
        new = [n for n in lucky if id(pool[n][2]) in fits]
        kept += new
        feed = [
            without_decorators(pool[n][2].content)
            for n in new
            if not flags[n][1] and pool[n][0].recursive_scanning is not False
        ]
        if len(new) < len(lucky):
            break  # the budget is full: SillyTavern stops scanning there
        if feed:
            echo += feed
        elif levels:
            level = levels.pop(0)  # the next level of delayed entries
        else:
            break
        recursing = True
    return [pool[n][2] for n in kept]


def lore_text(entries: Sequence[LoreEntry]) -> str:
    """The prompt block for fired entries: their contents, one per line."""
    texts = (" ".join(without_decorators(e.content).split()) for e in entries)
    return "\n".join(t for t in texts if t)
