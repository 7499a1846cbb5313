"""Persona: what an agent needs to know about one character, built from a parsed play."""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field

from dramatis.core.errors import DramatisError, closest
from dramatis.personas.lorebook import Lorebook, active_entries, lore_text
from dramatis.personas.model import Play, Speech
from dramatis.personas.resolve import Resolver

N_SAMPLES = 8
N_PARTNERS = 5


def _unset(value: object) -> bool:
    """Whether an optional card field is empty (then dumps leave it out)."""
    return not value


SPEAKERS = Path(__file__).parent / "data" / "speakers.json"


class Persona(BaseModel):
    """A character card: who they are, how they speak, whom they speak with."""

    name: str
    play: str  # play key, e.g. "hamlet"
    play_title: str
    description: str
    n_speeches: int
    n_lines: int
    sample_lines: list[str] = Field(default_factory=list)  # representative speeches
    partners: list[tuple[str, int]] = Field(default_factory=list)  # (name, exchanges), top 5
    first_scene: str
    last_scene: str
    # From a Character Card (personas/cards.py). Defaulted, and left out of dumps while
    # unset, so play personas and the shipped cast file stay as they were.
    personality: str = Field(default="", exclude_if=_unset)
    scenario: str = Field(default="", exclude_if=_unset)
    first_mes: str = Field(default="", exclude_if=_unset)
    alternate_greetings: list[str] = Field(default_factory=list, exclude_if=_unset)
    group_only_greetings: list[str] = Field(default_factory=list, exclude_if=_unset)
    system_prompt: str = Field(default="", exclude_if=_unset)
    post_history_instructions: str = Field(default="", exclude_if=_unset)
    tags: list[str] = Field(default_factory=list, exclude_if=_unset)
    # 0..1: how readily they speak unaddressed in a group (SillyTavern's talkativeness)
    talkativeness: float = Field(default=0.5, exclude_if=lambda v: v == 0.5)
    lorebook: Lorebook | None = Field(default=None, exclude_if=_unset)
    card_source: dict | None = Field(default=None, exclude_if=_unset)  # the imported card

    def card(self) -> str:
        """Who the character is, as a list of persons in a play would say it: nothing
        about authors, speeches or counts, which a small model would narrate or parrot.

        -> "Hamlet, son to the former King of Denmark, and nephew to the present King."
        """
        if self.card_source is not None:
            return self._imported_card()
        return card_line(self.name, self.description)

    def _imported_card(self) -> str:
        """An imported character in prompts: description, personality, scenario, whole
        (agents/budget.py cuts what the context cannot hold)."""
        parts = [f"{self.name}: {self.description}".strip().rstrip(":")]
        parts += [
            f"{label}: {text}"
            for label, text in (("Personality", self.personality), ("Scenario", self.scenario))
            if text.strip()
        ]
        ended = [p if p.rstrip()[-1:] in ".!?\"')*" else p.rstrip() + "." for p in parts]
        return " ".join(" ".join(ended).split())

    def lore_for(self, messages: list[str]) -> str:
        """Lorebook entries the recent `messages` bring in, as prompt text ("" without)."""
        if self.lorebook is None:
            return ""
        return lore_text(active_entries(self.lorebook, messages))

    def summary(self) -> str:
        """A few lines for display: who, from where, how much they speak, with whom."""
        if self.card_source is not None:
            tags = ", ".join(self.tags) or "none"
            return f"{self._imported_card()}\nImported character card; tags: {tags}."
        who = f"{self.name}, {self.description}" if self.description else self.name
        partners = ", ".join(name for name, _ in self.partners) or "no one in particular"
        return (
            f"{who}, from {self.play_title}.\n"
            f"Speaks {self.n_speeches} times ({self.n_lines} lines), "
            f"from scene {self.first_scene} to scene {self.last_scene}.\n"
            f"Talks most with: {partners}."
        )


def partner_counts(speeches: list[Speech], name: str) -> Counter[str]:
    """Adjacent exchanges in the same scene between `name` and each other speaker.

    [Ham, Hor, Ham, Mar] for "Hamlet" -> {"Horatio": 2, "Marcellus": 1}
    """
    counts: Counter[str] = Counter()
    for a, b in zip(speeches, speeches[1:], strict=False):
        if (a.act, a.scene) != (b.act, b.scene):
            continue
        for one, other in ((a, b), (b, a)):
            if name in one.speakers and name not in other.speakers:
                counts.update(n for n in other.speakers)
    return counts


def spread_order(n: int) -> list[int]:
    """Indices 0..n-1 in an order whose every prefix spreads over the whole range.

    spread_order(8) -> [0, 7, 4, 2, 6, 1, 5, 3]
    """
    order: list[int] = []
    parts = 1
    while len(order) < n:
        for k in range(parts + 1):
            index = round(k * (n - 1) / parts) if parts else 0
            if index not in order:
                order.append(index)
        parts *= 2
    return order[:n]


def sample_lines(speeches: list[Speech], n: int = N_SAMPLES) -> list[str]:
    """Representative speeches: short-to-medium ones (2-6 lines) spread evenly over the
    play, ordered so that the first k of them still span the whole play.

    Deterministic; falls back to any speech when there are few medium ones.
    """
    medium = [s for s in speeches if 2 <= len(s.lines) <= 6 and len(s.text.split()) >= 10]
    pool = medium if len(medium) >= n else speeches
    if len(pool) <= n:
        picks = pool
    else:
        picks = [pool[round(i * (len(pool) - 1) / (n - 1))] for i in range(n)]
    return ["\n".join(picks[i].lines) for i in spread_order(len(picks))]


def card_line(name: str, description: str) -> str:
    """A play character's card, as its line in a list of persons.

    card_line("Ophelia", "daughter to Polonius") -> "Ophelia, daughter to Polonius."
    card_line("Ghost", "") -> "Ghost."
    """
    return f"{name}, {description}." if description else f"{name}."


def describe(play: Play, name: str) -> str:
    """The persons-list description, made to stand alone: "the former" and "his Son"
    point at the entry above; an unlisted wife ("Lady Macbeth") is named by her lord.

    describe(hamlet, "Hamlet") -> "son to the former King of Denmark, and nephew to the present King"
    describe(macbeth, "Malcolm") -> "son to Duncan"; describe(macbeth, "Lady Macbeth") -> "wife to Macbeth"
    """
    listed = list(play.characters.values())
    names = [c.name for c in listed]
    at = names.index(name) if name in names else -1
    text = listed[at].description if at >= 0 else ""
    above = [c for c in listed[:at] if c.description and not c.description.startswith("his ")]
    if above and re.search(r"\bthe former\b", text):
        text = re.sub(r"\bthe former\b", f"the former {above[-1].description}", text, count=1)
    elif above and re.match(r"his (\w+)$", text):
        text = f"{text.split()[1]} to {above[-1].name}"
    lord = name.removeprefix("Lady ")
    if not text and lord != name and lord in play.characters:
        text = f"wife to {lord}"
    return re.sub(
        r"\b(Son|Daughter|Nephew|Friend|Servant|Mother|Wife)\b", lambda m: m.group(0).lower(), text
    )


def character_name(play: Play, name: str) -> str:
    """The canonical name of a character in a play, from any spelling or heading form."""
    speakers = {s.speaker for s in play.speeches()} | set(play.characters)
    for known in speakers:
        if known.lower() == name.strip().lower():
            return known
    found = Resolver(play.characters.values(), ()).character(name)
    if found:
        return found
    near = closest(name, speakers)
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    raise DramatisError(f"no character {name!r} in {play.key or play.title}{hint}")


def speeches_until(play: Play, until: str | None) -> list[Speech]:
    """The play's speeches up to and including scene `until` ("1.2"); all when None."""
    if until is None:
        return play.speeches()
    play.scene(until)  # an unknown scene id raises, listing the valid ones
    out: list[Speech] = []
    for scene in play.scenes():
        out += scene.speeches
        if scene.id == until.strip():
            break
    return out


def build_persona(play: Play, name: str, until: str | None = None) -> Persona:
    """Build the persona of a character; DramatisError with the closest names if unknown.

    With `until` ("1.2") only that scene and those before it are read: nothing from later.
    """
    name = character_name(play, name)
    speeches = speeches_until(play, until)
    own = [s for s in speeches if s.speaker == name]
    if not own:
        where = f" by scene {until}" if until else ""
        raise DramatisError(f"{name} never speaks in {play.key}{where}; pick a speaking character")
    return Persona(
        name=name,
        play=play.key,
        play_title=play.title,
        description=describe(play, name),
        n_speeches=len(own),
        n_lines=sum(len(s.lines) for s in own),
        sample_lines=sample_lines(own),
        partners=partner_counts(speeches, name).most_common(N_PARTNERS),
        first_scene=own[0].scene_id,
        last_scene=own[-1].scene_id,
    )


def collect_speakers() -> list[str]:
    """Every name a speech of the 37 plays goes by, sorted (parses them all: seconds): the
    readable names of its speakers, their aliases ("Gloster", "King Richard", "Hal") and the
    headings as printed, without the period ("KING RICHARD", "GLOSTER", "M.antony"), so the
    guard ends a turn at another character's heading in either form."""
    from dramatis.personas.corpus import list_plays, load_play

    names: set[str] = set()
    for key in list_plays():
        play = load_play(key)
        for speech in play.speeches():
            names.update((speech.speaker, *speech.speakers, _heading_name(speech.heading)))
        for character in play.characters.values():
            names.update((character.name, *character.aliases))
    return sorted(
        n
        for n in names
        if len(n) > 1 and n.lower() not in _FUNCTION_WORDS and re.fullmatch(r"[A-Za-z][\w .'-]*", n)
    )


# Words a list entry or heading may be ("An" in All's Well's list) that a reply starts a
# line with too often to end a turn at ("For: ...")
_FUNCTION_WORDS = frozenset({"an", "in", "the", "for", "her", "off", "and", "of", "to"})


def _heading_name(heading: str) -> str:
    """A printed heading as a name: _heading_name("KING RICHARD.  ") -> "KING RICHARD"."""
    return " ".join(heading.split()).rstrip(".:-").strip()


@lru_cache(maxsize=1)
def play_speakers() -> tuple[str, ...]:
    """Every speaker name of the plays, from the shipped list (see collect_speakers)."""
    return tuple(json.loads(SPEAKERS.read_text(encoding="utf-8")))
