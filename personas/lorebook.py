"""Lorebooks (a card's `character_book`): which entries a conversation brings to mind.

The semantics follow the Character Card V2/V3 specs: an enabled entry fires when one of
its `keys` occurs in the last `scan_depth` messages (a `selective` entry also needs one of
its `secondary_keys`), or always when `constant`. With V3's `use_regex` the keys are
regular expressions (plain, or "/pattern/flags") and, as the V3 spec says,
`secondary_keys` and `constant` are ignored. Fired entries go into the prompt by
`insertion_order` (lower first), and when their text is over the `token_budget`, those
with the lowest `priority` (then the lowest `insertion_order`) are left out first. V3
`@@` decorator lines are taken out of the content, not applied. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_SCAN_DEPTH = 4  # messages scanned when the book does not say (SillyTavern's default)
DEFAULT_TOKEN_BUDGET = 256


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


class Lorebook(BaseModel):
    """A card's character_book: entries plus how far back to scan and how much to insert."""

    model_config = ConfigDict(extra="allow")

    name: str | None = None
    scan_depth: int | None = None
    token_budget: int | None = None
    recursive_scanning: bool | None = None
    entries: list[LoreEntry] = Field(default_factory=list)


SLASHED = re.compile(r"/(.+)/([a-z]*)", re.DOTALL)  # a regex key written "/pattern/flags"
REGEX_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}  # JS flags we honour


def key_matches(key: str, text: str, *, case_sensitive: bool, regex: bool) -> bool:
    """Whether a lore key occurs in `text`: whole words, or a regular expression.

    key_matches("Elsinore", "to elsinore we go", case_sensitive=False, regex=False) -> True
    key_matches("king", "the kingdom", case_sensitive=False, regex=False) -> False
    key_matches("/king(dom)?/i", "KINGDOM", case_sensitive=True, regex=True) -> True
    """
    if not key.strip():
        return False
    flags = 0 if case_sensitive else re.IGNORECASE
    pattern = key if regex else rf"(?<!\w){re.escape(key.strip())}(?!\w)"
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
    opts = {"case_sensitive": bool(entry.case_sensitive), "regex": regex}
    if not any(key_matches(k, text, **opts) for k in entry.keys):
        return False
    if entry.selective and entry.secondary_keys and not regex:
        return any(key_matches(k, text, **opts) for k in entry.secondary_keys)
    return True


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
    depth = book.scan_depth if book.scan_depth is not None else DEFAULT_SCAN_DEPTH
    text = "\n".join(messages[-depth:]) if depth > 0 else ""
    fired = [e for e in book.entries if entry_fires(e, text)]
    fired.sort(key=lambda e: e.insertion_order)
    budget = book.token_budget if book.token_budget is not None else DEFAULT_TOKEN_BUDGET
    return within_budget(fired, budget, count_tokens)


def lore_text(entries: Sequence[LoreEntry]) -> str:
    """The prompt block for fired entries: their contents, one per line."""
    texts = (" ".join(without_decorators(e.content).split()) for e in entries)
    return "\n".join(t for t in texts if t)
