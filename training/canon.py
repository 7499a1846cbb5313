"""The canon as pages: every scene of the plays laid out as the page format serves one,
cut into windows and packed into training sequences for a language-model stage voice.

A served page (agents/prompts.py `page_prompt`) is the persons of the scene, one line
each, then the setting line, then the talk as `NAME: speech` lines, one speech a line.
A window here is exactly that: the scene's persons (those who speak in it, at most six,
as their persons-list lines), a blank line, the setting line, then as many consecutive
speeches as fit. Only the speeches carry a loss (headings included: "HAMLET:" and the
line break that ends a speech are what the served model must write too); the persons
and setting lines are context, as they are when serving.

Windows are packed whole into sequences of at most `seq_tokens` tokens (first fit, in a
seeded order), so nothing is padded and no window loses its page header. Plays held out
for validation never train; their windows are only scored.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from dramatis.core.errors import DramatisError

MAX_PERSONS = 6  # persons on a page: a staged cast has 2-4, a crowded scene is cut
# Plays no training sequence comes from: their perplexity is the validation figure, and
# the held-out casts of docs/fidelity.md round 5 come from them (never tuned on).
HELD_OUT = ("much_ado_about_nothing", "julius_caesar", "twelfth_night")

Tokenize = Callable[[str], list[int]]


@dataclass(frozen=True)
class Window:
    """One page: token ids and a 0/1 loss mask of the same length."""

    play: str
    scene: str  # "3.1"
    ids: tuple[int, ...]
    mask: tuple[int, ...]


@dataclass
class Sequence_:
    """Windows packed into one training sequence (no padding)."""

    ids: list[int] = field(default_factory=list)
    mask: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)


def speech_line(name: str, text: str) -> str:
    """A speech as a page shows it: heading in capitals, the speech on one line.

    speech_line("Hamlet", "To be,\\n  or not") -> "HAMLET: To be, or not"
    """
    return f"{name.upper()}: {' '.join(text.split())}"


def scene_persons(play, scene, person: Callable[[str], str]) -> list[str]:
    """The page's persons for a scene: who speaks in it, in order of first speech, at
    most MAX_PERSONS, each as `person(name)` (a persons-list line)."""
    names: list[str] = []
    for speech in scene.speeches:
        for name in speech.speakers or (speech.speaker,):
            if name not in names:
                names.append(name)
    return [person(n) for n in names[:MAX_PERSONS]]


def scene_windows(
    play, scene, tokenize: Tokenize, seq_tokens: int, person: Callable[[str], str], bos: int | None
) -> list[Window]:
    """A scene cut into pages of at most `seq_tokens` tokens, each with the page header.

    A speech longer than a page alone is cut at the page's end (rare: a few soliloquies).
    """
    from dramatis.agents.prompts import person_line

    persons = "\n".join(person_line(p) for p in scene_persons(play, scene, person))
    header = [*([bos] if bos is not None else []), *tokenize(f"{persons}\n\n")]
    header += tokenize(" ".join(play.setting_line(scene).split()))
    lines = [tokenize("\n" + speech_line(s.speaker, s.text)) for s in scene.speeches]
    room = seq_tokens - len(header)
    if room < 32:
        return []  # a header that fills the page leaves nothing to learn from
    windows: list[Window] = []
    body: list[int] = []
    for line in lines:
        if body and len(body) + len(line) > room:
            windows.append(_window(play, scene, header, body))
            body = []
        body += line[:room]
    if body:
        windows.append(_window(play, scene, header, body))
    return windows


def _window(play, scene, header: list[int], body: list[int]) -> Window:
    return Window(play.key, scene.id, (*header, *body), (0,) * len(header) + (1,) * len(body))


def pack(windows: Sequence[Window], seq_tokens: int, seed: int) -> list[Sequence_]:
    """Windows in a seeded order, packed first-fit into sequences of <= seq_tokens.

    The order is shuffled once; each window goes into the first open sequence it fits
    (of the last 8, so packing stays linear), else starts a new one.
    """
    order = list(windows)
    random.Random(seed).shuffle(order)
    done: list[Sequence_] = []
    open_: list[Sequence_] = []
    for w in order:
        for s in open_:
            if len(s) + len(w.ids) <= seq_tokens:
                s.ids += w.ids
                s.mask += w.mask
                break
        else:
            open_.append(Sequence_(list(w.ids), list(w.mask)))
            if len(open_) > 8:
                done.append(open_.pop(0))
    return done + open_


@dataclass(frozen=True)
class CanonData:
    train: list[Sequence_]
    val: list[Sequence_]
    train_plays: list[str]
    val_plays: list[str]
    sha256: str  # content hash of the train and val sequences, in order

    def tokens(self, part: str = "train") -> int:
        return sum(len(s) for s in getattr(self, part))

    def supervised(self, part: str = "train") -> int:
        return sum(sum(s.mask) for s in getattr(self, part))


def data_hash(train: Sequence[Sequence_], val: Sequence[Sequence_]) -> str:
    digest = hashlib.sha256()
    for part in (train, val):
        for s in part:
            digest.update(json.dumps([s.ids, s.mask]).encode())
        digest.update(b"|")
    return digest.hexdigest()


def build_canon(
    tokenize: Tokenize,
    *,
    seq_tokens: int,
    seed: int,
    plays: Sequence[str] = (),
    held_out: Sequence[str] = HELD_OUT,
    val_sequences: int = 24,
    bos: int | None = None,
    on_play: Callable[[str], None] = lambda _: None,
) -> CanonData:
    """Training sequences from every chosen play but the held-out ones; validation: up to
    `val_sequences` sequences of the held-out plays, spread evenly over them."""
    from dramatis.personas import list_plays, load_play
    from dramatis.personas.persona import card_line, describe

    known = list_plays()
    for key in (*plays, *held_out):
        if key not in known:
            raise DramatisError(
                f"unknown play {key!r} for the stage voice: one of {', '.join(known)}"
            )
    chosen = sorted(plays or known)
    if not held_out or set(held_out) >= set(chosen):
        raise DramatisError("the stage voice needs both training plays and held-out plays")
    train_w: list[Window] = []
    val_w: list[Window] = []
    for key in sorted(set(chosen) | set(held_out)):
        on_play(key)
        play = load_play(key)
        person = _person_lines(play, card_line, describe)
        for scene in play.scenes():
            found = scene_windows(play, scene, tokenize, seq_tokens, person, bos)
            (val_w if key in held_out else train_w).extend(found)
    train = pack(train_w, seq_tokens, seed)
    val_all = pack(val_w, seq_tokens, seed)
    step = max(1, len(val_all) // max(1, val_sequences))
    val = val_all[::step][:val_sequences]
    train_plays = [p for p in chosen if p not in held_out]
    return CanonData(train, val, train_plays, sorted(held_out), data_hash(train, val))


def _person_lines(play, card_line, describe) -> Callable[[str], str]:
    cache: dict[str, str] = {}

    def person(name: str) -> str:
        if name not in cache:
            cache[name] = card_line(name, describe(play, name))
        return cache[name]

    return person
