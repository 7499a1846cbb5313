"""Known words only: a sampler that draws no word the plays never use.

A speech's words are checked as they are drawn, token by token. A token's text is cut
where word characters (personas/vocabulary.py `tokens`: letters, digits, apostrophes)
meet anything else (`Piece`): its head goes on with the word the speech has open, whole
words inside it must be known, and a word it leaves open must still be able to become a
known one ("Macb" can, "Okay" cannot). Known: a token of the plays' vocabulary (as
written, bare, or without a possessive, as the arena's modern-words figure reads it), or
a word the page holds (names, the setting, a card's words).

`keep_known` masks a step's logits and makes the top-p cut itself, over the known tokens:
it checks the likeliest tokens in order until those it keeps hold `top_p` of the mass the
known tokens can have. Checking all 262k tokens of Gemma's vocabulary a step would cost
more than the step; the nucleus is a few hundred (docs/fidelity.md, round 15).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np

from dramatis.personas.vocabulary import normal, plays_words, readings, tokens

# `keep_known` ranks the tokens in tiers: within 6 of the best logit, then 10, 14, 20, all
TIERS = (6.0, 10.0, 14.0, 20.0, math.inf)
CHUNK = 128  # tokens checked at first, twice as many each time after
TRAPPED = 1e-3  # inside a word, known tokens with less of the mass leave it unchecked

_WORD = "[a-z0-9']"  # a word character, as `tokens` reads it (after `normal`)
_RUN = re.compile(f"{_WORD}+")
_OPEN = re.compile(f"{_WORD}*$")


def prefixes(words: Collection[str]) -> frozenset[str]:
    """Every prefix of every word, the words included: prefixes({"ay"}) -> {"a", "ay"}"""
    return frozenset(w[:k] for w in words for k in range(1, len(w) + 1))


@dataclass(frozen=True)
class Piece:
    """A token's text as words see it.

    head: word characters it starts with, which go on with the open word ("" when it
    starts with anything else); closed: whether something else follows the head inside
    it; inner: whole words after the head; tail: a word it starts and leaves open.

    Piece.of("ght") -> Piece("ght", False, (), ""); Piece.of(" thou") -> Piece("", True,
    (), "thou"); Piece.of("s, and so") -> Piece("s", True, ("and",), "so")
    """

    head: str
    closed: bool
    inner: tuple[str, ...]
    tail: str

    @classmethod
    def of(cls, text: str) -> Piece:
        text = normal(text)
        runs = [(m.start(), m.end()) for m in _RUN.finditer(text)]
        if runs and runs[0] == (0, len(text)):
            return cls(text, False, (), "")
        head = text[: runs[0][1]] if runs and runs[0][0] == 0 else ""
        rest = runs[1:] if head else runs
        tail = text[rest[-1][0] :] if rest and rest[-1][1] == len(text) else ""
        inner = tuple(text[a:b] for a, b in (rest[:-1] if tail else rest))
        return cls(head, True, inner, tail)


@functools.lru_cache(maxsize=1)
def _prefixes() -> frozenset[str]:
    """Every prefix of every word of the plays' vocabulary, the words included."""
    return prefixes(plays_words())


class KnownWords:
    """Which words a speech may say: the plays' and `page`'s (lower-case bare tokens)."""

    def __init__(self, page: Collection[str] = ()) -> None:
        words = plays_words()
        self.page = frozenset(page) - words
        self.page_prefixes = prefixes(self.page)
        self._known: Callable[[str], bool] = lambda word: word in words or word in self.page
        self.whole = functools.lru_cache(maxsize=65536)(self._whole)
        self.open = functools.lru_cache(maxsize=65536)(self._open)

    def _whole(self, run: str) -> bool:
        """Whether a finished run of word characters is known words only."""
        return all(any(self._known(r) for r in readings(t)) for t in tokens(run))

    def _open(self, run: str) -> bool:
        """Whether a run of word characters that goes on may still end a known word."""
        stem = run.lstrip("'")
        if not stem or stem in _prefixes() or stem in self.page_prefixes:
            return True
        return stem.endswith("'s") and self.whole(stem[:-2])

    def allows(self, word: str | None, piece: Piece) -> bool:
        """Whether a token may follow while `word` is open (None: an unknown word was open
        before the check began, so it may go on as it likes until it ends)."""
        if piece.head and word is not None:
            joined = word + piece.head
            if not (self.whole(joined) if piece.closed else self.open(joined)):
                return False
        elif not piece.head and word and not self.whole(word):
            return False
        return all(self.whole(r) for r in piece.inner) and (not piece.tail or self.open(piece.tail))


def open_word(text: str) -> str:
    """The word characters `text` ends with: the word a continuation goes on with.

    open_word("Thou art Macb") -> "macb"; open_word("so.") -> ""
    """
    found = _OPEN.search(normal(text[-64:]))
    return found.group(0) if found else ""


def after(word: str | None, piece: Piece) -> str | None:
    """The open word once `piece` is said."""
    if piece.head and not piece.closed:
        return None if word is None else word + piece.head
    return piece.tail


class Vocabulary:
    """A model's tokens as the checks read them, in arrays over token ids: whether each
    starts with word characters (`heads`), whether something else follows them inside
    it (`closed`), and whether its inner words and open tail are the plays' (`plain`).
    A page's own words let more tokens through (`rescued`: " Zan" on a page with
    "Zanzibar")."""

    def __init__(self, texts: Sequence[str]) -> None:
        plays = KnownWords()
        self.texts = texts
        pieces = [Piece.of(t) for t in texts]
        self.heads = [p.head for p in pieces]
        self.starts = np.fromiter((bool(p.head) for p in pieces), dtype=bool, count=len(pieces))
        self.closed = np.fromiter((p.closed for p in pieces), dtype=bool, count=len(pieces))
        self.plain = np.fromiter(
            (plays.allows(None, p) for p in pieces), dtype=bool, count=len(pieces)
        )
        # letters no word check reads (Cyrillic, CJK, accented): junk in a speech of the
        # plays, and they would pass as separators
        self.foreign = np.fromiter(
            (any(c.isalpha() and not c.isascii() for c in t) for t in texts),
            dtype=bool,
            count=len(texts),
        )
        self.plain &= ~self.foreign
        # the refused tokens by each word of theirs (inner or tail), for `rescued`
        self._refused: dict[str, list[int]] = {}
        for i in np.flatnonzero(~self.plain).tolist():
            for part in (*pieces[i].inner, pieces[i].tail):
                self._refused.setdefault(part.lstrip("'"), []).append(i)
        self._rescued: dict[frozenset[str], np.ndarray] = {}

    def piece(self, token: int) -> Piece:
        return Piece.of(self.texts[token])

    def rescued(self, known: KnownWords) -> np.ndarray:
        """Whether each token is allowed (but for its head) by the plays' or the page's
        words: `plain`, and the refused tokens a word of the page lets through."""
        found = self._rescued.get(known.page)
        if found is None:
            found = self.plain.copy()
            parts = set(known.page_prefixes)
            parts |= {f"{w}'s" for w in known.page} | {f"{w}'" for w in known.page}
            for part in parts:
                for i in self._refused.get(part, ()):
                    found[i] = found[i] or (
                        not self.foreign[i] and known.allows(None, self.piece(i))
                    )
            if len(self._rescued) >= 4:
                self._rescued.pop(next(iter(self._rescued)))
            self._rescued[known.page] = found
        return found

    def could(self, word: str | None, known: KnownWords) -> np.ndarray:
        """Which tokens may be allowed while `word` is open, from the arrays alone: every
        one `allowed` lets through, and some it refuses (a head that does not go on with
        the word)."""
        ok = self.rescued(known) if known.page else self.plain
        if not word or known.whole(word):
            return ok
        return ok & self.starts

    def allowed(self, word: str | None, known: KnownWords, ids: np.ndarray) -> np.ndarray:
        """Which of the tokens `ids` may follow while `word` is open (see `allows`)."""
        ok = (self.rescued(known) if known.page else self.plain)[ids]
        starts = self.starts[ids]
        ok[~starts] &= not word or known.whole(word)
        if word is not None:
            for j in np.flatnonzero(starts & ok).tolist():
                token = int(ids[j])
                joined = word + self.heads[token]
                ok[j] = known.whole(joined) if self.closed[token] else known.open(joined)
        return ok


def known_nucleus(
    scores: np.ndarray,
    word: str | None,
    known: KnownWords,
    vocabulary: Vocabulary,
    top_p: float,
    top_k: int = 0,
) -> np.ndarray | None:
    """The ids of the nucleus of the known tokens of one step's logits (None: keep all).
    The likeliest tokens (at most `top_k`; 0: all) are checked in order, and those that
    say no unknown word kept, until they hold `top_p` of what all known tokens can hold
    (the unchecked tokens that `Vocabulary.could` pass count as known: a bound that
    keeps the nucleus near its exact size). With no known token among the `top_k`, the
    rest are looked at too.

    Inside a word (or after a word and an apostrophe: "won'"), when the known tokens hold
    under `TRAPPED` of the mass, the word was begun as another the plays lack (" hobbi"
    meant for "hobbies" has only "hobbididence" to go on with): the word is let go (its
    check alone is dropped; the rest of each token is still checked, and the nucleus
    cut), and the caller tracks it unchecked to its end.

    The tokens are ranked a tier at a time (`TIERS`), so a step sorts a few hundred
    tokens, not the whole vocabulary."""
    top = float(scores.max())
    if not np.isfinite(top):
        return None
    weights = np.exp(scores - np.float32(top))
    could = vocabulary.could(word, known)  # a bound on what the unchecked may add
    total = float(weights[could].sum(dtype=np.float64))
    trapped = TRAPPED * float(weights.sum(dtype=np.float64))
    limit = top_k if top_k > 0 else len(scores)
    inside = word is not None and word != "" and (not known.whole(word) or word.endswith("'"))
    kept: list[np.ndarray] = []
    kept_mass, seen_mass, seen, chunk, above = 0.0, 0.0, 0, CHUNK, np.float32(np.inf)
    for depth in TIERS:
        below = np.float32(math.exp(-depth))
        tier = np.flatnonzero((weights > below) & (weights <= above))
        above = below
        ranked = tier[np.argsort(-weights[tier], kind="stable")][: limit - seen]
        start = 0
        while start < len(ranked):
            ids = ranked[start : start + chunk]
            start, seen, chunk = start + len(ids), seen + len(ids), chunk * 2
            ok = vocabulary.allowed(word, known, ids)
            mass = weights[ids].astype(np.float64)
            kept_cum = kept_mass + np.cumsum(np.where(ok, mass, 0.0))
            counted = np.where(could[ids], mass, 0.0)
            rest = np.maximum(total - (seen_mass + np.cumsum(counted)), 0.0)
            done = np.flatnonzero(ok & (kept_cum >= top_p * (kept_cum + rest)))
            end = int(done[0]) + 1 if len(done) else len(ids)
            kept.append(ids[:end][ok[:end]])
            kept_mass, seen_mass = float(kept_cum[end - 1]), seen_mass + float(counted[:end].sum())
            if len(done):
                return np.concatenate(kept)
            if inside and kept_mass + total - seen_mass < trapped:
                return known_nucleus(scores, None, known, vocabulary, top_p, top_k)
        if seen >= limit:
            break
    if inside and kept_mass < trapped:
        return known_nucleus(scores, None, known, vocabulary, top_p, top_k)
    if not kept_mass:
        return known_nucleus(scores, word, known, vocabulary, top_p) if top_k else None
    return np.concatenate(kept)


def keep_known(
    scores: np.ndarray,
    word: str | None,
    known: KnownWords,
    vocabulary: Vocabulary,
    top_p: float,
    top_k: int = 0,
    view: np.ndarray | None = None,
) -> np.ndarray:
    """`scores`, in place, at -inf but for `known_nucleus` of `view` (the logits as the
    sampler will weigh them, after its penalties; default: `scores` themselves)."""
    ids = known_nucleus(scores if view is None else view, word, known, vocabulary, top_p, top_k)
    return scores if ids is None else _only(scores, ids)


def _only(scores: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """`scores`, in place, at -inf but for `ids`."""
    values = scores[ids]
    scores.fill(-np.inf)
    scores[ids] = values
    return scores
