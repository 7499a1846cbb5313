"""What a reader knows of a character at a point in the play: how they speak, what they
want and do, how they greet. Measured from their own lines, never from later scenes.

Ties (kin, love, service, enmity) come from the memory graph, which sits above this
package: `dramatis.reader_cards` joins the two into a Character Card.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field

from dramatis.personas.model import Play, Speech
from dramatis.personas.persona import character_name, speeches_until

# Title words in names ("Lord Hamlet") that are no one's name when said in a line.
_COMMON_WORDS = frozenset({"lord", "lady", "king", "queen", "prince", "duke", "good", "father"})
# Forms of address counted in a character's own lines, by what they tell a reader.
ADDRESS_FORMS = {
    "thou": r"\b(?:thou|thee|thy|thine)\b",  # intimacy, or contempt
    "you": r"\b(?:you|your|yours)\b",  # the polite plural
    "my lord": r"\bmy (?:good |gracious |dear |noble )?lord\b",
    "sir": r"\bsir\b",
    "madam": r"\b(?:madam|lady)\b",
}
# A line that says what the speaker means to do or wishes for.
_WANT = re.compile(
    r"\b(?:I will|I'll|I would|I must|I mean to|I long|I wish|would I|let me|I'd)\b[^.;:!?]*"
)
MAX_WANTS = 4


@dataclass
class SpeechStyle:
    """How a character speaks, measured from their own lines up to the horizon."""

    verse_share: float  # share of continuation lines that start with a capital (verse)
    lines_per_speech: float
    words_per_speech: float
    address: dict[str, int] = field(default_factory=dict)  # ADDRESS_FORMS -> uses
    names_addressed: list[tuple[str, int]] = field(default_factory=list)  # top vocatives

    def describe(self) -> str:
        """One or two sentences a card can carry.

        -> "Speaks mostly verse, about 4 lines a speech; says thou more than you; calls on
        Horatio, Marcellus."
        """
        form = (
            "verse"
            if self.verse_share >= 0.6
            else "prose"
            if self.verse_share <= 0.4
            else ("verse and prose")
        )
        parts = [f"Speaks mostly {form}, about {round(self.lines_per_speech)} lines a speech"]
        thou, you = self.address.get("thou", 0), self.address.get("you", 0)
        if thou or you:
            parts.append("says thou more than you" if thou > you else "says you more than thou")
        titles = [f for f in ("my lord", "sir", "madam") if self.address.get(f, 0) >= 2]
        if titles:
            parts.append("addresses others as " + ", ".join(f'"{t}"' for t in titles))
        if self.names_addressed:
            parts.append("calls on " + ", ".join(n for n, _ in self.names_addressed))
        return "; ".join(parts) + "."


@dataclass
class ReaderView:
    """What a reader knows of one character at `until` (a scene id; None: the whole play)."""

    name: str
    play: str
    until: str | None
    style: SpeechStyle
    wants: list[str]
    doings: list[str]  # one line per scene they speak in: where, and with whom
    greeting: str

    def as_dict(self) -> dict[str, object]:
        """Plain JSON-ready dict."""
        return asdict(self)


def other_names(play: Play, name: str) -> dict[str, str]:
    """Lower-case words naming other listed characters -> that character's name."""
    own = {w.lower() for w in re.findall(r"[A-Za-z']+", name)}
    words: dict[str, str] = {}
    for char in play.characters.values():
        if char.name == name or not char.listed:
            continue
        for form in (char.name, *char.aliases):
            for w in re.findall(r"[a-z']+", form.lower()):
                if len(w) > 3 and w not in own and w not in _COMMON_WORDS:
                    words.setdefault(w, char.name)
    return words


def speech_style(own: list[Speech], names: dict[str, str]) -> SpeechStyle:
    """Verse or prose, length and forms of address of a character's own speeches."""
    later = [line for s in own for line in s.lines[1:]]
    verse = sum(line[:1].isupper() for line in later) / len(later) if later else 1.0
    text = "\n".join(s.text for s in own).lower()
    address = {form: len(re.findall(rx, text)) for form, rx in ADDRESS_FORMS.items()}
    vocatives: Counter[str] = Counter()
    for m in re.finditer(r"(?:^|[,!?;]\s*|\bo\s+)([a-z']+)\s*[,!?]", text, re.MULTILINE):
        if m[1] in names:
            vocatives[names[m[1]]] += 1
    n = max(len(own), 1)
    return SpeechStyle(
        verse_share=round(verse, 2),
        lines_per_speech=round(sum(len(s.lines) for s in own) / n, 1),
        words_per_speech=round(sum(len(s.text.split()) for s in own) / n, 1),
        address=address,
        names_addressed=vocatives.most_common(3),
    )


def wants(own: list[Speech]) -> list[str]:
    """What they say they will do or wish for, latest first (a few short clauses)."""
    found: list[str] = []
    for speech in reversed(own):
        for m in _WANT.finditer(" ".join(speech.lines)):
            clause = " ".join(m[0].split())
            if 3 <= len(clause.split()) <= 14 and clause not in found:
                found.append(clause)
        if len(found) >= MAX_WANTS:
            break
    return found[:MAX_WANTS]


def doings(play: Play, name: str, until: str | None) -> list[str]:
    """Each scene up to `until` where they speak: its id, setting and who else spoke."""
    out = []
    for scene in play.scenes():
        spoke = [s for s in scene.speeches if name in s.speakers]
        if spoke:
            with_ = sorted({n for s in scene.speeches for n in s.speakers} - {name})
            company = f" with {', '.join(with_[:4])}" if with_ else ""
            setting = scene.setting.rstrip(".") or "the stage"
            out.append(f"{scene.id}: speaks {len(spoke)} times at {setting}{company}.")
        if until is not None and scene.id == until.strip():
            break
    return out


def greeting(play: Play, name: str, until: str | None = None) -> str:
    """A line the character says on entering a scene, addressed to no one by name.

    Their first speech of a scene, two lines at most, with no other character's name in
    it (Hamlet's "I am glad to see you well: Horatio" is passed over); "" when none fits.
    """
    others = other_names(play, name)
    firsts = []  # their first speech in each scene up to `until`
    for scene in play.scenes():
        own = [s for s in scene.speeches if s.speaker == name]
        firsts += own[:1]
        if until is not None and scene.id == until.strip():
            break
    whole = [" ".join(s.lines) for s in firsts if len(s.lines) <= 2]
    opening = [_first_sentence(" ".join(s.lines)) for s in firsts]  # a long speech's start
    for text in [*whole, *opening]:
        if (
            text
            and not text.startswith(('"', "'"))
            and not set(re.findall(r"[a-z']+", text.lower())) & others.keys()
        ):
            return text
    return ""


def _first_sentence(text: str) -> str:
    """The first sentence of a speech, if it is short enough to open a scene with.

    _first_sentence("Stand close. I hear them coming.") -> "Stand close."
    """
    m = re.match(r"(.+?[.!?])(?:\s|$)", text)
    sentence = m[1] if m else text
    return sentence if 3 <= len(sentence.split()) <= 25 else ""


def reader_view(play: Play, name: str, until: str | None = None) -> ReaderView:
    """What a reader knows of `name` by the end of scene `until` (None: the whole play)."""
    name = character_name(play, name)
    own = [s for s in speeches_until(play, until) if s.speaker == name]
    return ReaderView(
        name=name,
        play=play.key,
        until=until,
        style=speech_style(own, other_names(play, name)),
        wants=wants(own),
        doings=doings(play, name, until),
        greeting=greeting(play, name, until),
    )
