"""parse_play: Gutenberg play text -> Play, tracking who is on stage at every speech."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from dramatis.personas.headings import (
    act_heading,
    display_name,
    looks_like_heading,
    scene_heading,
    section_heading,
)
from dramatis.personas.identities import (
    Identity,
    apply_identities,
    heading_key,
    scene_headings,
)
from dramatis.personas.model import Act, Character, Play, Scene, Speech
from dramatis.personas.persons import parse_persons, persons_region
from dramatis.personas.resolve import Resolution, Resolver
from dramatis.personas.stage import apply_direction, direction_roles

IDENTITY_RULE = "identity table: this heading in this scene"

_BRACKETS = re.compile(r"\[([^\]]*)\]?")
# "WIDOW. So, now they come:--": a capitalised heading, its period, then the speech
_INLINE = re.compile(r"^(?P<head>[A-Z][A-Z' ,&]{2,40}\.)\s+(?P<rest>[A-Za-z'\"].*)$")
_SPIRITS = ("Ghost", "Ghosts")  # role words that name a different dead person each time
# "The Ghost of PRINCE EDWARD, son to HENRY THE SIXTH, rises" -> ("Ghost", "PRINCE EDWARD")
_RISEN = re.compile(r"\b(ghosts?) of ((?:the )?[\w' ]+?)(?:,| rises?\b| enters?\b|$)", re.I)


@dataclass
class _Draft:
    """A speech being read: its heading is known, its lines are still coming."""

    res: Resolution
    heading: str
    on_stage: tuple[str, ...]
    lines: list[str] = field(default_factory=list)
    left: list[tuple[str, int]] = field(default_factory=list)  # exits while it is spoken


class _Builder:
    """Reads blocks of a play body in order and builds acts, scenes and speeches."""

    def __init__(
        self,
        resolver: Resolver,
        first_lines: Counter[str],
        in_scenes: dict[tuple[str, str], Identity] | None = None,
    ):
        self.resolver = resolver
        self.first_lines = first_lines  # how often each line opens a block: headings repeat
        # (heading, scene id) -> person: the identity table's scene-bound headings
        self.in_scenes = in_scenes or {}
        self.seen_directions = 0  # the scene's directions read before the current speech
        self.acts: dict[int, Act] = {}
        self.act: int | None = None
        self.scene: Scene | None = None
        self.stage: list[str] = []
        self.draft: _Draft | None = None
        self.speeches = 0
        self.scenes_read = 0
        self.roles: dict[str, Character] = {}
        self.setting_open = False  # lines right after a scene heading continue its setting

    # -- structure -------------------------------------------------------------------
    def _new_scene(self, number: int | None, setting: str, kind: str = "scene") -> None:
        self._flush()
        act_no = self.act if self.act is not None else 0
        act = self.acts.setdefault(act_no, Act(act_no))
        if act.scenes and not act.scenes[-1].speeches and not act.scenes[-1].directions:
            act.scenes.pop()  # an empty "INDUCTION." heading right before "SCENE I."
        if number is None:
            number = act.scenes[-1].number + 1 if act.scenes else 0
        if any(s.number == number for s in act.scenes):
            number = act.scenes[-1].number + 1  # a repeated scene number in the source
        self.scene = Scene(act_no, number, setting, kind=kind)
        act.scenes.append(self.scene)
        self.scenes_read += 1
        self.resolver.shared.enter_scene(self.scenes_read, setting)
        self.stage = []
        self.seen_directions = 0
        self.setting_open = True

    def _new_act(self, number: int) -> None:
        self._flush()
        self.act = number
        self.acts.setdefault(number, Act(number))
        self.scene = None

    # -- speeches --------------------------------------------------------------------
    def _members(self, res: Resolution) -> tuple[str, ...]:
        if res.group and res.members:
            return res.members  # named by the heading or the identity table
        if res.speaker == "All":
            return tuple(self.stage)
        if res.speaker == "Both":
            if len(self.stage) == 2:
                return tuple(self.stage)
            # The pair answering the last speaker: the two latest other speakers on stage.
            said = self.scene.speeches if self.scene else []
            last = said[-1].speakers if said else ()
            recent = [n for s in reversed(said) for n in s.speakers if n not in last]
            pair = [n for n in dict.fromkeys(recent) if n in self.stage][:2]
            return tuple(reversed(pair)) if len(pair) == 2 else ()
        return res.members

    def _start_speech(self, heading: str, res: Resolution) -> None:
        self._flush()
        if self.scene is None and self.act is None:
            return  # front matter, or a poem: no speeches before the first act or section
        if self.scene is None:
            self._new_scene(None, "")
        members = self._members(res)
        if res.group and res.speaker in ("All", "Both"):
            res = Resolution(res.speaker, members, bool(members), group=True, rule=res.rule)
        for name in members or (res.speaker,):
            if name not in self.stage:
                self.stage.append(name)
            if name not in self.resolver_names and res.resolved:
                self.roles.setdefault(name, Character(name, listed=False))
        self.draft = _Draft(res, heading.strip(), tuple(self.stage))
        self.seen_directions = len(self.scene.directions) if self.scene else 0  # read so far
        self.setting_open = False

    @property
    def resolver_names(self) -> set[str]:
        return {c.name for c in self.resolver.characters}

    def _flush(self) -> None:
        draft, self.draft = self.draft, None
        text = "\n".join(draft.lines).strip("\n") if draft else ""
        if not draft or not text.strip() or self.scene is None:
            return
        res = draft.res
        self.scene.speeches.append(
            Speech(
                speaker=res.speaker,
                text=text,
                act=self.scene.act,
                scene=self.scene.number,
                index=self.speeches,
                on_stage=draft.on_stage,
                heading=draft.heading,
                resolved=res.resolved,
                speakers=res.members or (res.speaker,),
                left=tuple(draft.left),
                rule=res.rule,
            )
        )
        self.speeches += 1

    def _text(self, text: str, alone: bool = False) -> None:
        """A line of speech text; with no speech open it belongs to a headless section."""
        if not text.strip():
            return
        if self.draft is None:
            if self.scene is None:
                return  # front matter before the first act, or a poem
            if self.setting_open and not self.scene.speeches and alone:
                self.scene.setting = f"{self.scene.setting} {text.strip()}".strip()
                return
            name = display_name(self.scene.kind if self.scene.kind != "scene" else "Unknown")
            known = self.resolver.character(name)
            rule = "text with no heading in a prologue or epilogue"
            self._start_speech(
                "", Resolution(known or name, (known or name,), bool(known), rule=rule)
            )
        if self.draft is not None:
            self.draft.lines.append(text.strip())

    def _direction(self, text: str) -> None:
        text = " ".join(text.split())
        if not text or self.scene is None:
            return
        self.scene.directions.append(text)
        speaker = self.draft.res.speaker if self.draft else None
        if speaker is None and self.scene.speeches:
            speaker = self.scene.speeches[-1].speaker
        opening = not self.scene.speeches and self.draft is None
        before = self.stage
        self.stage = apply_direction(text, self.stage, self.resolver, speaker, opening)
        if self.draft is not None:  # an exit mid-speech: they heard the lines so far
            heard = len(self.draft.lines)
            self.draft.left += [(n, heard) for n in before if n not in self.stage]

    # -- blocks ----------------------------------------------------------------------
    def _is_heading(self, line: str, alone: bool) -> Resolution | None:
        if not looks_like_heading(line):
            return None
        res = self.resolver.resolve(line, self.stage)
        text = line.strip()
        if alone and len(res.members) > 1:
            return None  # "TROILUS AND CRESSIDA" alone on a line is a title, not two speakers
        if res.resolved and (not alone or text.isupper() or text.endswith(".")):
            return res
        if not alone and (text.isupper() or self.first_lines[text] >= 2):
            return res
        return None

    def feed(self, block: list[str]) -> None:
        """Read one block of lines (a paragraph between blank lines)."""
        in_dir, buffer, opening = 0, "", True
        for i, raw in enumerate(block):
            text = raw.strip()
            if opening and not in_dir and self._structure(text):
                continue
            scene = self.scene
            more_setting = opening and not in_dir and self.setting_open and i > 0
            if scene and more_setting and "[" not in "".join(block[: i + 1]):
                scene.setting = f"{scene.setting} {text}".strip()
                continue
            if opening and not in_dir and (inline := self._inline_heading(text)):
                head, raw, res = inline  # "CITIZENS. The gods preserve you both!"
                self._start_speech(head, self._in_scene(head, self._risen(res)))
                opening = False
            elif not in_dir and (opening or text.isupper()):
                head, _, after = raw.partition("[")  # "BAPTISTA.  [To TRANIO.]"
                res = self._is_heading(head.rstrip(), alone=len(block) == 1)
                if res and (opening or self.resolver.character(head)):
                    self._start_speech(head, self._in_scene(head, self._risen(res)))
                    opening = False
                    if not after:
                        continue
                    raw = "[" + after
            spoken, in_dir, buffer = self._scan(raw, in_dir, buffer)
            if spoken.strip():
                self._text(spoken, alone=len(block) <= 2 and not any("[" in b for b in block))
                opening = False
        if in_dir:
            self._direction(buffer)

    def _inline_heading(self, line: str) -> tuple[str, str, Resolution] | None:
        """A heading printed on the same line as its speech, opening a paragraph:
        "CITIZENS. The gods preserve you both!" -> ("CITIZENS.", "The gods ...", resolution).
        The heading is in capitals and names someone; else None (prose stays prose)."""
        found = _INLINE.match(line)
        if found is None or not found["head"].isupper():
            return None
        if not re.search(r"[a-z]", re.sub(r"\band\b", "", found["rest"])):
            return None  # "VARRO. CLAUDIUS.", "PEMBROKE. and BIGOT.": one heading for two
        res = self.resolver.resolve(found["head"], self.stage)
        if not res.resolved or (res.group and len(res.members) > 1 and not found["rest"]):
            return None
        return found["head"], found["rest"], res

    def _risen(self, res: Resolution) -> Resolution:
        """A bare "GHOST." right after "[The Ghost of CLARENCE rises.]" is that ghost:
        Richard III's six ghosts are six people, not one role."""
        fresh = self.scene.directions[self.seen_directions :] if self.scene else []
        if res.rule != "role word" or res.speaker not in _SPIRITS or not fresh:
            return res
        found = None
        for text in fresh:
            found = _RISEN.search(text) or found
        if found is None or found.group(1).lower() != res.speaker.lower():
            return res
        words = found.group(2).split()  # "HENRY THE SIXTH" -> "Henry the Sixth"
        whom = " ".join(
            w.lower() if w.islower() or (i and w.lower() in ("the", "of")) else display_name(w)
            for i, w in enumerate(words)
        )
        name = f"{res.speaker} of {whom}"
        return Resolution(name, (name,), True, rule="the ghost the direction raises")

    def _in_scene(self, heading: str, res: Resolution) -> Resolution:
        """The identity table's person for a heading in this scene ("KING." in 2 Henry IV
        5.2 is the crowned Hal), else `res` unchanged."""
        key = (heading_key(heading), self.scene.id if self.scene else "")
        if (found := self.in_scenes.get(key)) is None:
            return res
        if found.off_stage and res.speaker in self.stage:
            return res  # the heading's own person is here: the heading holds
        name, members = found.name, found.members
        if members:
            return Resolution(name, members, True, group=True, rule=IDENTITY_RULE)
        return Resolution(name, (name,), True, rule=IDENTITY_RULE)

    def _structure(self, text: str) -> bool:
        """Handle an act, scene or section heading; False if the line is none of those."""
        if act := act_heading(text):
            self._new_act(act[0])
            rest = act[1]
            if scene := scene_heading(rest):
                self._new_scene(scene[0], scene[1])
            return True
        if scene := scene_heading(text):
            self._new_scene(scene[0], scene[1])
            return True
        if kind := section_heading(text):
            if kind == "epilogue" or (self.act is not None and self.acts[self.act].scenes):
                self._new_scene(None, "", kind)
            else:
                self._new_scene(0, "", kind)
            return True
        return False

    def _scan(self, line: str, depth: int, buffer: str) -> tuple[str, int, str]:
        """Split a line into spoken text and stage directions (nested, may span lines)."""
        spoken: list[str] = []
        for ch in line:
            if ch == "[":
                depth += 1
                if depth == 1:
                    continue
            elif ch == "]" and depth:
                depth -= 1
                if depth == 0:
                    self._direction(buffer)
                    buffer = ""
                    continue
            elif ch == "]":
                continue  # a stray closing bracket
            if depth:
                buffer += ch
            else:
                spoken.append(ch)
        if depth:
            buffer += " "
        joined = re.sub(r"\s{2,}", " ", "".join(spoken)).strip()
        return joined, depth, buffer

    def finish(self, characters: list[Character]) -> tuple[dict[str, Character], list[Act]]:
        self._flush()
        chars = {c.name: c for c in characters}
        for name, role in self.roles.items():
            chars.setdefault(name, role)
        acts = [act for act in self.acts.values() if act.scenes]
        return chars, acts


def _blocks(lines: list[str]) -> list[list[str]]:
    """Paragraphs of non-blank lines.

    _blocks(["a", "b", "", "c"]) -> [["a", "b"], ["c"]]
    """
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            blocks[-1].append(line.rstrip())
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


def parse_play(text: str, key: str = "", title: str = "") -> Play:
    """Parse a play text (Gutenberg layout) into a Play; poems give a Play with no speeches."""
    lines = text.replace("\r\n", "\n").split("\n")
    first = next((line.strip() for line in lines if line.strip()), "")
    title = title or display_name(first)
    start, end = persons_region(lines)
    persons = parse_persons(lines[start:end], first)
    persons.characters = apply_identities(key, persons.characters)
    body = lines[end:] if start else lines
    directions = _BRACKETS.findall("\n".join(body))
    roles = persons.roles | direction_roles(directions)
    resolver = Resolver(persons.characters, roles, listed_roles=persons.roles)
    blocks = _blocks(body)
    resolver.claim(b[0].partition("[")[0] for b in blocks if looks_like_heading(b[0]))
    builder = _Builder(resolver, Counter(b[0].strip() for b in blocks), scene_headings(key))
    for block in blocks:
        builder.feed(block)
    characters, acts = builder.finish(persons.characters)
    return Play(key=key, title=title, characters=characters, acts=acts)
