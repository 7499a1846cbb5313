"""Typed data for a parsed play: Play ▸ Act ▸ Scene ▸ Speech."""

from __future__ import annotations

from dataclasses import dataclass, field

from dramatis.core.errors import DramatisError

GROUP_SPEAKERS = ("All", "Both")


@dataclass(frozen=True)
class Speech:
    """One speech: a speaker's turn, with who was on stage when it was spoken."""

    speaker: str  # canonical display name ("Hamlet", "First Witch"); groups: "All"/"Both"
    text: str  # verse lines joined with "\n", stage directions removed
    act: int  # 0 for prologue/induction before the first act
    scene: int
    index: int  # 0-based position in the whole play
    on_stage: tuple[str, ...]  # canonical names on stage, always including the speaker(s)
    heading: str = ""  # raw heading as in the text, e.g. "Ham."
    resolved: bool = True  # heading resolved to a named character of the play
    speakers: tuple[str, ...] = ()  # members of a group speech, else (speaker,)
    # Who exits while it is spoken, with how many of its lines they heard (presence per
    # line: memory/news.py heard_by)
    left: tuple[tuple[str, int], ...] = ()
    rule: str = ""  # why the heading maps to the speaker (`dramatis play check` lists it)

    @property
    def scene_id(self) -> str:
        """Scene id like "3.1"."""
        return f"{self.act}.{self.scene}"

    @property
    def lines(self) -> list[str]:
        """Non-empty verse/prose lines of the speech."""
        return [line for line in self.text.split("\n") if line.strip()]


@dataclass
class Scene:
    """A scene (or prologue, induction, epilogue section) with its speeches in order."""

    act: int
    number: int
    setting: str  # heading text after "SCENE I.", e.g. "Elsinore. A room in the Castle."
    speeches: list[Speech] = field(default_factory=list)
    directions: list[str] = field(default_factory=list)
    kind: str = "scene"  # "scene", "prologue", "induction", "epilogue"

    @property
    def id(self) -> str:
        """Scene id like "3.1"."""
        return f"{self.act}.{self.number}"


@dataclass
class Act:
    """An act; act 0 holds a prologue or induction that comes before act 1."""

    number: int
    scenes: list[Scene] = field(default_factory=list)


@dataclass
class Character:
    """A character of the play, from the persons list or a generic role that speaks."""

    name: str
    description: str = ""
    aliases: tuple[str, ...] = ()
    listed: bool = True  # named in the persons list (False: a role seen in headings/directions)
    identity: str = ""  # why personas/data/identities.json names them so ("": as listed)
    given: tuple[str, ...] = ()  # the aliases that table gives (they match as fully as a name)


@dataclass
class Play:
    """A parsed play."""

    key: str
    title: str
    characters: dict[str, Character]
    acts: list[Act]

    def scenes(self) -> list[Scene]:
        """All scenes in play order."""
        return [scene for act in self.acts for scene in act.scenes]

    def speeches(self) -> list[Speech]:
        """All speeches in play order."""
        return [speech for scene in self.scenes() for speech in scene.speeches]

    def scene(self, scene_id: str) -> Scene:
        """The scene with id "3.1"; DramatisError listing the valid ids otherwise."""
        for scene in self.scenes():
            if scene.id == scene_id.strip():
                return scene
        valid = ", ".join(s.id for s in self.scenes())
        raise DramatisError(f"{self.key or 'play'} has no scene {scene_id!r}; valid: {valid}")

    def setting_line(self, scene: Scene) -> str:
        """The setting a scene from this play is staged in (and its training pairs see).

        -> "The Tragedy of Hamlet, Prince of Denmark, act 3, scene 1. A room in the Castle."
        """
        return f"{self.title}, act {scene.act}, scene {scene.number}. {scene.setting}".strip()

    def resolved_fraction(self) -> float:
        """Fraction of speeches whose heading resolved to a named character (1.0 if none)."""
        speeches = self.speeches()
        if not speeches:
            return 1.0
        return sum(s.resolved for s in speeches) / len(speeches)

    def line_counts(self) -> dict[str, int]:
        """Lines spoken per speaker (group speeches count for the group name), most first."""
        counts: dict[str, int] = {}
        for speech in self.speeches():
            counts[speech.speaker] = counts.get(speech.speaker, 0) + len(speech.lines)
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
