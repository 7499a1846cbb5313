"""Persona: what an agent needs to know about one character, built from a parsed play."""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel, Field

from dramatis.core.errors import DramatisError, closest
from dramatis.personas.lorebook import Lorebook, active_entries, lore_text
from dramatis.personas.model import Play, Speech
from dramatis.personas.resolve import Resolver

N_SAMPLES = 8
N_PARTNERS = 5
CARD_CHARS = 800  # an imported card's description in prompts: the small model's budget


def _unset(value: object) -> bool:
    """Whether an optional card field is empty (then dumps leave it out)."""
    return not value


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
        """Who the character is, for prompts: no counts a small model would parrot.

        -> "Hamlet, Son to the former, and Nephew to the present King, in Shakespeare's
           Hamlet; speaks most with Horatio, Polonius and Rosencrantz."
        """
        if self.card_source is not None:
            return self._imported_card()
        who = f"{self.name}, {self.description}" if self.description else self.name
        names = [name for name, _ in self.partners[:3]]
        talks = ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else "".join(names)
        return f"{who}, in Shakespeare's {self.play_title}" + (
            f"; speaks most with {talks}." if talks else "."
        )

    def _imported_card(self) -> str:
        """An imported character in prompts: description, personality, scenario, cut short."""
        parts = [f"{self.name}: {self.description}".strip().rstrip(":")]
        parts += [
            f"{label}: {text}"
            for label, text in (("Personality", self.personality), ("Scenario", self.scenario))
            if text.strip()
        ]
        ended = [p if p.rstrip()[-1:] in ".!?\"')*" else p.rstrip() + "." for p in parts]
        text = " ".join(" ".join(ended).split())
        if len(text) <= CARD_CHARS:
            return text
        cut = text[:CARD_CHARS]
        return cut[: cut.rfind(". ") + 1] if ". " in cut else cut

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


def sample_lines(speeches: list[Speech], n: int = N_SAMPLES) -> list[str]:
    """Representative speeches: short-to-medium ones (2-6 lines) spread evenly over the play.

    Deterministic; falls back to any speech when there are few medium ones.
    """
    medium = [s for s in speeches if 2 <= len(s.lines) <= 6 and len(s.text.split()) >= 10]
    pool = medium if len(medium) >= n else speeches
    if len(pool) <= n:
        picks = pool
    else:
        picks = [pool[round(i * (len(pool) - 1) / (n - 1))] for i in range(n)]
    return ["\n".join(s.lines) for s in picks]


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


def build_persona(play: Play, name: str) -> Persona:
    """Build the persona of a character; DramatisError with the closest names if unknown."""
    name = character_name(play, name)
    speeches = play.speeches()
    own = [s for s in speeches if s.speaker == name]
    if not own:
        raise DramatisError(f"{name} never speaks in {play.key}; pick a speaking character")
    character = play.characters.get(name)
    return Persona(
        name=name,
        play=play.key,
        play_title=play.title,
        description=character.description if character else "",
        n_speeches=len(own),
        n_lines=sum(len(s.lines) for s in own),
        sample_lines=sample_lines(own),
        partners=partner_counts(speeches, name).most_common(N_PARTNERS),
        first_scene=own[0].scene_id,
        last_scene=own[-1].scene_id,
    )
