"""A chat: one staged scene with a person in it, and what a person can do to it.

No UI here: the Textual app calls these from a worker thread, tests call them
directly. Every change goes through the scene graph and its checkpoints.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dramatis.agents.model import LanguageModel
from dramatis.agents.policies import make_policy, reply_count
from dramatis.agents.scene import Partial, SceneGraph, turn_seed
from dramatis.agents.scene_store import SceneSpec, SceneStore
from dramatis.agents.turn import Turn
from dramatis.core.errors import DramatisError
from dramatis.core.settings import Settings
from dramatis.personas import find_persona
from dramatis.personas.cards import card_persona
from dramatis.personas.world_info import LoreStore, missing_lore
from dramatis.staging import (
    Staged,
    build_scene,
    card_opening,
    cast_personas,
    cast_setting,
    new_thread_id,
    opening_from_play,
    parse_cast,
    scene_spec,
    with_member,
)
from dramatis.transcript import markdown, write_transcript

YOU = "You"


@dataclass(frozen=True)
class ChatOptions:
    """What `dramatis chat` was asked for (a new chat)."""

    cast: str
    scene: str | None = None
    human: str = YOU  # "You" or a character of the plays (`--as`)
    name: str = ""  # your own name, when you are not a character (`--name`)
    rank: str = ""  # who you are, for the page's list of persons (`--rank`)
    model: str | None = None
    adapters: bool = False
    seed: int = 7
    policy: str = "addressed"
    max_tokens: int = 60
    temperature: float = 0.8
    memory: bool = False
    home: Path | None = None  # the state folder whose imported cards the cast may name
    greeting: int | None = None  # a card's greeting to open with (`--greeting N`)
    lore: str = ""  # world info attached to the chat (`--lore`, personas/world_info.py)


@dataclass(frozen=True)
class CastRow:
    name: str
    present: bool
    adapter: str  # adapter name, "base", or "-" for the person
    turns: int


@dataclass(frozen=True)
class Branch:
    """One line the chat has taken (`/branches`): where it parts from the one shown."""

    number: int  # in the order the lines were first taken: 1 is the oldest
    turns: int
    parts_at: int  # the first turn where it differs from the line shown
    last: str  # its last turn, "SPEAKER: text"
    current: bool


@dataclass(frozen=True)
class Swipes:
    """The versions a reply has had (retries), oldest first, and which one is shown."""

    texts: tuple[str, ...]
    shown: int  # 0-based


def said_key(turns: list[Turn]) -> tuple[tuple[str, str], ...]:
    """What a line of the chat said, to tell branches apart (who and what, in order)."""
    return tuple((t["speaker"], t["text"]) for t in turns)


@dataclass(frozen=True)
class Recollection:
    """What one character recalled for its latest speech (the side panel shows it)."""

    speaker: str
    lines: tuple[str, ...]


NAME = re.compile(r"[A-Za-z][A-Za-z'.-]*(?: [A-Za-z][A-Za-z'.-]*){0,3}")


def person_card(name: str, rank: str) -> str:
    """The person's line in the page's list of persons: a name and who they are.

    person_card("Anna", "a gentlewoman of Verona") -> "Anna, a gentlewoman of Verona."
    person_card("You", "") -> "You, a stranger."
    """
    rank = " ".join(rank.split()).rstrip(".") or "a stranger"
    return f"{name}, {rank}."


def who_you_are(options: ChatOptions) -> tuple[str, str]:
    """(your name in the scene, your line in its list of persons) from --as, --name and
    --rank: a character's own card, or your name and rank ("You, a stranger." when
    neither is given); a one-line DramatisError for a name no heading can carry."""
    if options.human != YOU:
        if options.name or options.rank:
            raise DramatisError(
                f"--as {options.human} makes you that character: leave out --name and --rank"
            )
        persona = find_persona(options.human, home=options.home)
        return persona.name, persona.card()
    name = " ".join(options.name.split()) or YOU
    if not NAME.fullmatch(name):
        raise DramatisError(
            f"--name {options.name!r}: use up to four words of letters, e.g. --name 'Anna'"
        )
    return name, person_card(name, options.rank)


def new_spec(options: ChatOptions, thread_id: str | None = None) -> tuple[SceneSpec, list[Turn]]:
    """The spec of a new chat and its opening: the play's lines with --scene, else the
    greeting of a card character in the cast (`--greeting N` picks which), if any."""
    home = options.home
    human, card = who_you_are(options)
    cast = parse_cast(options.cast)
    personas = [p for p in cast_personas(cast, home) if p.name != human]
    names = [p.name for p in personas]
    if not names:
        raise DramatisError(f"--cast has nobody but you ({human}): add a character to talk to")
    make_policy(options.policy)  # fail on a bad name before loading anything
    if home is not None:
        missing_lore(options.lore, names, LoreStore(home))
    setting = cast_setting(personas, names + [human], human)  # a card's scenario, {{user}}: you
    if options.scene and options.greeting is not None:
        raise DramatisError("--greeting opens with a card's greeting: leave out --scene")
    if options.scene:
        setting, opening = opening_from_play(options.scene)
    else:
        group = len(names) > 1
        greeters = [card_persona(p.card_source, human) if p.card_source else p for p in personas]
        opening = card_opening(greeters, group, options.greeting, [*names, human])  # {{user}}: you
    spec = scene_spec(
        personas,
        thread_id=thread_id or "chat-" + new_thread_id(names),
        setting=setting,
        source_scene=options.scene,
        model=options.model,
        seed=options.seed,
        policy=options.policy,
        agent={
            "max_tokens": options.max_tokens,
            "temperature": options.temperature,
            "human_card": card,  # the characters see whom they talk to (agents/character.py)
            "lore": options.lore,
        },
        adapters=options.adapters,
        human=human,
        memory=options.memory,
    )
    return spec, opening


class ChatSession:
    def __init__(
        self,
        spec: SceneSpec,
        store: SceneStore,
        settings: Settings,
        model: LanguageModel | None = None,
    ) -> None:
        if not spec.human:
            raise DramatisError(f"{spec.thread_id!r} is a staged scene, not a chat: use resume")
        self.spec = spec
        self.store = store
        self.settings = settings
        self.staged: Staged = build_scene(spec, store, settings, model)

    @classmethod
    def start(
        cls,
        spec: SceneSpec,
        opening: list[Turn],
        store: SceneStore,
        settings: Settings,
        model: LanguageModel | None = None,
    ) -> ChatSession:
        """A new chat (from `new_spec`), saved at once so `dramatis scenes` lists it."""
        store.save(spec)
        session = cls(spec, store, settings, model)
        if opening:
            list(session.scene.run(spec.thread_id, 0, opening))
        else:  # a checkpoint with no turns, so that your first line can be edited or undone
            config = session.scene.config(spec.thread_id)
            session.scene.graph.update_state(config, {"turns": []}, as_node="observe")
        return session

    @property
    def scene(self) -> SceneGraph:
        return self.staged.scene

    @property
    def thread_id(self) -> str:
        return self.spec.thread_id

    @property
    def human(self) -> str:
        return self.spec.human or YOU

    def turns(self) -> list[Turn]:
        return self.scene.turns(self.thread_id)

    def say(self, text: str) -> Turn:
        """The person's line, checkpointed as a turn with source "human"."""
        if not text.strip():
            raise DramatisError("nothing to say: type a line first")
        return self.scene.say(self.thread_id, self.human, text.strip())

    def replies(self, turn: Turn) -> int:
        """How many characters answer `turn` (seeded: the same on a rerun)."""
        rng = random.Random(turn_seed(self.spec.seed, turn["index"]))
        return reply_count(turn, self.scene.on_stage(self.thread_id), rng)

    def run(self, turns: int) -> Iterator[Partial | Turn]:
        return self.scene.run(self.thread_id, turns)

    def retry(self) -> Iterator[Partial | Turn]:
        return self.scene.retry(self.thread_id)

    def undo(self) -> Turn:
        """Branch from the turn before the last one; returns the turn taken back."""
        turns = self.turns()
        if not turns:
            raise DramatisError("nothing to undo: the scene has no turns yet")
        return self.scene.rewind(self.thread_id, len(turns) - 1)[0]

    def stop(self) -> None:
        self.scene.stop()

    # -- editing: swipes, edits and branches, all through the checkpoints --------------

    def _snapshots(self) -> list:
        """Every checkpoint of the chat, on every branch, newest first."""
        config = self.scene.config(self.thread_id)
        return list(self.scene.graph.get_state_history(config))

    def _make_head(self, snapshot: object) -> None:
        """Go on from `snapshot`: a checkpoint after it becomes the chat's head (the line
        left stays in the history, as with undo)."""
        config = snapshot.config  # type: ignore[attr-defined]
        self.scene.graph.update_state(config, {}, as_node="observe")

    def _versions(self) -> tuple[list[Turn], dict[str, object]]:
        """(turns, {text: checkpoint}) for the last reply's versions, oldest first: the
        checkpoints whose turns are the ones shown but for the last one's text."""
        turns = self.turns()
        if not turns or turns[-1]["speaker"] not in self.scene.agents:
            raise DramatisError("no reply to swipe: the last turn is not a character's")
        at, before = len(turns) - 1, said_key(turns[:-1])
        found: dict[str, object] = {}
        for snap in reversed(self._snapshots()):
            said = snap.values.get("turns", [])
            if len(said) == at + 1 and said_key(said[:at]) == before:
                found.setdefault(said[at]["text"], snap)
        return turns, found

    def swipes(self) -> Swipes:
        """The versions of the last reply (each retry adds one) and which is shown."""
        turns, found = self._versions()
        texts = tuple(found)
        return Swipes(texts, texts.index(turns[-1]["text"]))

    def swipe(self, step: int) -> Swipes | None:
        """Show the last reply's version `step` away (-1: the one before); None past the
        newest (the caller draws a new one: a retry). The choice is a checkpoint."""
        turns, found = self._versions()
        texts = list(found)
        want = texts.index(turns[-1]["text"]) + step
        if want >= len(texts):
            return None
        if want < 0:
            raise DramatisError("this is the first version of the reply")
        self._make_head(found[texts[want]])
        return Swipes(tuple(texts), want)

    def my_line(self, index: int | None = None) -> Turn:
        """Your line at `index` (default: your last one); a one-line error otherwise."""
        turns = self.turns()
        mine = [t for t in turns if t["speaker"] == self.human]
        if index is None:
            if not mine:
                raise DramatisError("nothing to edit: you have not said anything yet")
            return mine[-1]
        if not 0 <= index < len(turns) or turns[index]["speaker"] != self.human:
            yours = ", ".join(str(t["index"]) for t in mine) or "none yet"
            raise DramatisError(f"turn {index} is not a line of yours (yours: {yours})")
        return turns[index]

    def edit(self, index: int | None, text: str) -> Iterator[Partial | Turn]:
        """Say your line at `index` (default: your last) as `text` instead, and go on
        from there: the chat branches before it, the replies are drawn again."""
        if not text.strip():
            raise DramatisError("/edit needs the new line: /edit N TEXT")
        line = self.my_line(index)
        self.scene.rewind(self.thread_id, line["index"])
        turn = self.say(text)
        yield turn
        yield from self.run(self.replies(turn))

    def _lines(self) -> dict[tuple, object]:
        """Each distinct line the chat has had, in the order it was first reached, with
        its newest checkpoint."""
        snaps = self._snapshots()  # newest first
        order = list(dict.fromkeys(said_key(s.values.get("turns", [])) for s in reversed(snaps)))
        newest: dict[tuple, object] = {}
        for snap in snaps:
            newest.setdefault(said_key(snap.values.get("turns", [])), snap)
        return {key: newest[key] for key in order}

    def _branch_heads(self) -> list[tuple]:
        """The lines no other line goes on from, and the one shown, oldest first."""
        lines = list(self._lines())
        now = said_key(self.turns())
        return [
            k
            for k in lines
            if k == now or not any(len(o) > len(k) and o[: len(k)] == k for o in lines)
        ]

    def branches(self) -> list[Branch]:
        """Every branch of the chat (`/branches`), the oldest first, the shown one marked."""
        now = said_key(self.turns())
        rows = []
        for number, head in enumerate(self._branch_heads(), start=1):
            parts = next(
                (i for i, (a, b) in enumerate(zip(head, now, strict=False)) if a != b), None
            )
            parts = min(len(head), len(now)) if parts is None else parts
            last = f"{head[-1][0].upper()}: {head[-1][1]}" if head else "(no turns)"
            rows.append(Branch(number, len(head), parts, last, head == now))
        return rows

    def switch_branch(self, number: int) -> Branch:
        """Go on from branch `number` of `branches` (a checkpoint, like undo)."""
        heads = self._branch_heads()
        if not 1 <= number <= len(heads):
            raise DramatisError(f"no branch {number}: the chat has branches 1 to {len(heads)}")
        lines = self._lines()
        if heads[number - 1] != said_key(self.turns()):
            self._make_head(lines[heads[number - 1]])
        return next(b for b in self.branches() if b.current)

    def invite(self, name: str) -> str:
        """Bring a character on stage; one new to the chat gets an agent (saved in the spec)."""
        if name.strip().lower() == self.human.lower():
            raise DramatisError(f"{self.human} is you: invite someone else")
        persona = find_persona(name, home=self.settings.home)
        present = self.scene.present(self.thread_id)
        if persona.name in present:
            raise DramatisError(f"{persona.name} is already here")
        if persona.name not in self.spec.cast:
            self.spec = with_member(self.spec, persona)  # stored with its play
            self.store.save(self.spec)
            self.staged = build_scene(self.spec, self.store, self.settings, self.staged.model)
        self.scene.set_present(self.thread_id, [*present, persona.name])
        return persona.name

    def dismiss(self, name: str) -> str:
        """Send a character off stage (they keep their agent and can be invited back)."""
        present = self.scene.present(self.thread_id)
        hit = next((n for n in present if n.lower() == name.strip().lower()), None)
        if hit is None or hit == self.human:
            here = ", ".join(n for n in present if n != self.human) or "nobody"
            raise DramatisError(f"cannot dismiss {name!r}: on stage are {here}")
        self.scene.set_present(self.thread_id, [n for n in present if n != hit])
        return hit

    def cast_rows(self) -> list[CastRow]:
        """The side panel: everyone in the chat, on stage or not, with their turn counts."""
        turns = self.turns()
        present = self.scene.present(self.thread_id)
        rows = [CastRow(self.human, True, "-", 0)]
        for name in self.spec.cast:
            adapter = self.scene.agents[name].adapter or "base"
            rows.append(CastRow(name, name in present, adapter, 0))
        spoken = {r.name: sum(t["speaker"] == r.name for t in turns) for r in rows}
        return [CastRow(r.name, r.present, r.adapter, spoken[r.name]) for r in rows]

    def recollection(self, speaker: str | None = None) -> Recollection | None:
        """What `speaker` (by default the last character who spoke) recalled for its
        latest speech; None when the chat has no memory or no character has spoken."""
        if not self.spec.memory:
            return None
        agents = self.scene.agents
        if speaker is None:
            said = [t["speaker"] for t in self.turns() if t["speaker"] in agents]
            speaker = said[-1] if said else None
        if speaker is None or speaker not in agents:
            return None
        return Recollection(speaker, agents[speaker].recalled)

    def save(self, out: Path | None = None) -> Path:
        """Write transcript.jsonl/.md and scene.json (the turns are already checkpointed)."""
        folder = out or Path("runs") / self.thread_id
        write_transcript(folder, self.spec, self.turns())
        return folder

    def export(self, path: Path | None = None) -> Path:
        """The chat as a Markdown transcript."""
        path = path or Path("runs") / self.thread_id / "transcript.md"
        if path.suffix.lower() != ".md":
            raise DramatisError(f"/export {path}: give a path ending in .md")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(markdown(self.spec, self.turns()), encoding="utf-8")
        return path


def open_chat(
    thread_id: str, store: SceneStore, settings: Settings, model: LanguageModel | None = None
) -> ChatSession:
    """A saved chat, with its history, to go on with."""
    return ChatSession(store.load(thread_id), store, settings, model)
