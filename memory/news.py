"""News that travels: who heard a speech (presence per line), which speeches tell of a
death, and deaths that only dialogue reports ("your sister's drown'd, Laertes").

A death is known to those who saw it (memory/deaths.py). Those who hear it told later
learn it then, from the line that tells it; being named in it teaches nobody anything.
A speech tells of a death when it holds a word of death and points at the dead: by name,
or by a kin word ("my father", "your sister") while someone kin to the dead hears it, or
when it answers a question that does ("Where is my father?" / "Dead."). The word of death
must say the dead are dead, not that they killed, will die, or might: it stands in the
same clause ("Portia is dead."; not "Fool Lepidus! ... That murder'd Pompey"), with no
word of what may be between ("Falstaff shall die", "Come quickly, Montague, or I am
dead"), and a name before a verb of killing is its doer ("Chiron and Demetrius Were they
that murdered") unless the verb is passive ("Roderigo is kill'd").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from dramatis.memory.deaths import Death
from dramatis.memory.relations import described_relations
from dramatis.personas.model import Play, Scene, Speech

DEATH_WORDS = re.compile(
    r"\b(?:dead|death|died|slain|slew|kill'?d|killed|murder'?d|murdered|drown'?d|drowned)\b",
    re.IGNORECASE,
)
# A kin word after a possessive: "your sister", "my dear father"
KIN_PHRASE = re.compile(
    r"\b(my|your|thy|his|her|our|their)\s+(?:dear\s+|good\s+|poor\s+|noble\s+)?"
    r"(father|mother|sister|brother|son|daughter|husband|wife|uncle|aunt|nephew|niece)\b",
    re.IGNORECASE,
)
NEAR = 10  # words: a death word and what points at the dead are this close or closer
CLAUSE_END = re.compile(r"[.;!?]")  # a death word beyond one of these is in another clause
# Words that put a death in the future, a wish, a condition or a question of doing
NOT_SO = re.compile(
    r"\b(?:shall|shalt|will|wilt|would|wouldst|should|shouldst|may|might|must|'ll|"
    r"unless|lest|till|until|or|if|else|were)\b",
    re.IGNORECASE,
)
# Verbs of killing: a name before one does the killing, unless the verb is passive
KILLING = re.compile(r"^(?:slew|kill'?d|killed|murder'?d|murdered)$", re.IGNORECASE)
PASSIVE = re.compile(r"\b(?:is|was|are|were|be|been|being|lies|lie|'s)\s*$", re.IGNORECASE)
FEMALE = {"mother", "sister", "daughter", "wife", "aunt", "niece", "widow"}
MALE = {"father", "brother", "son", "husband", "uncle", "nephew"}
# "X, son to Y": the word X would use for Y, and Y for X
ROLES = {
    "son": ("parent", "child"), "daughter": ("parent", "child"),
    "father": ("child", "parent"), "mother": ("child", "parent"),
    "brother": ("sibling", "sibling"), "sister": ("sibling", "sibling"),
    "nephew": ("elder", "younger"), "niece": ("elder", "younger"),
    "uncle": ("younger", "elder"), "aunt": ("younger", "elder"),
    "wife": ("spouse", "spouse"), "husband": ("spouse", "spouse"), "widow": ("spouse", "spouse"),
}  # fmt: skip
WORD_ROLE = {
    "father": "parent", "mother": "parent", "son": "child", "daughter": "child",
    "brother": "sibling", "sister": "sibling", "uncle": "elder", "aunt": "elder",
    "nephew": "younger", "niece": "younger", "husband": "spouse", "wife": "spouse",
}  # fmt: skip


def heard_by(speech: Speech) -> tuple[str, ...]:
    """Who heard the whole of a speech: those on stage when it began, less those who
    left before its last line (an exit mid-speech; presence per line)."""
    whole = len(speech.lines)
    gone = {name for name, heard in speech.left if heard < whole}
    return tuple(n for n in speech.on_stage if n not in gone)


def kin_roles(play: Play, names: dict[str, str]) -> dict[tuple[str, str], str]:
    """(someone, their kin) -> what the first would call the second, from the persons list;
    siblings (two children "to" the same person) included.

    "Laertes, son to Polonius" -> {("Laertes", "Polonius"): "parent", ("Polonius",
    "Laertes"): "child"}
    """
    roles: dict[tuple[str, str], str] = {}
    children: dict[str, set[str]] = {}
    for c in play.characters.values():
        for fact in described_relations(c.name, c.description, names):
            word = fact.detail.split()[0] if fact.detail else ""
            if fact.relation != "kin" or word not in ROLES:
                continue
            mine, theirs = ROLES[word]
            roles[(c.name, fact.tail)], roles[(fact.tail, c.name)] = mine, theirs
            if mine == "parent":
                children.setdefault(fact.tail, set()).add(c.name)
    for siblings in children.values():
        for one in siblings:
            roles.update({(one, other): "sibling" for other in siblings - {one}})
    return roles


def says_dead(text: str, spans: list[tuple[int, int]]) -> bool:
    """Whether a word of death says that what one of `spans` (char offsets) points at is
    dead: in the same clause, within NEAR words, with nothing of what may be between, and
    not a killing it did.

    says_dead("Portia is dead.", [(0, 6)]) -> True
    says_dead("Falstaff shall die of a sweat, unless already killed", [(0, 8)]) -> False
    says_dead("That cursed Chiron Were they that murdered", [(12, 18)]) -> False
    """
    for m in DEATH_WORDS.finditer(text):
        at, word_end = m.start(), m.end()
        for start, end in spans:
            between = text[min(end, at) : max(start, word_end)]
            if len(between.split()) > NEAR or CLAUSE_END.search(
                text[min(end, at) : max(start, at)]
            ):
                continue
            rest = re.split(r"[.;:!?,]", text[word_end:], maxsplit=1)[0].split()[:6]
            if NOT_SO.search(between) or NOT_SO.search(" ".join(rest)):
                continue  # "Montague is dead that shall be" (the future)
            if end <= at and KILLING.match(m[0]) and not PASSIVE.search(text[end:at]):
                continue  # "Chiron and Demetrius ... that murdered": they did it
            if m[0].lower() == "death" and not (
                (text[start:end].endswith("'s") and len(text[end:at].split()) <= 2)
                or re.fullmatch(r"\s+of\s+(?:the\s+)?", text[word_end:start])
            ):
                continue  # only "Salisbury's (sad) death" or "the death of Salisbury" is
                # theirs; not "Lepidus Have put to death", "as in a death ... Duncan"
            if at < start and re.search(r"\bby\s*$", text[word_end:start]):
                continue  # "Hector's slain, and by Achilles"
            return True
    return False


def gender(play: Play, name: str) -> str | None:
    """ "female"/"male" from a character's own kin word in the persons list ("Ophelia,
    daughter to Polonius" -> "female"), else None."""
    c = play.characters.get(name)
    words = re.findall(r"[a-z]+", (c.description if c else "").lower())
    for w in words:
        if w in FEMALE:
            return "female"
        if w in MALE:
            return "male"
    return None


def pointers(text: str, dead: str, speaker: str, hearers: Sequence[str],
             names: dict[str, str], roles: dict[tuple[str, str], str],
             sex: str | None = None) -> list[tuple[int, int]]:  # fmt: skip
    """Where `text` points at `dead`: their name, or a kin phrase that fits ("my father"
    said by a child of the dead, "your sister" said to a sibling of the dead, of the dead's
    `sex` when known); a kin phrase followed by a name is that one ("thy brother
    Bassianus")."""
    found = []
    for m in re.finditer(r"[A-Za-z']+", text):
        word = m[0].lower().removesuffix("'s")
        if names.get(word) == dead and m[0][0].isupper():
            found.append(m.span())
    for m in KIN_PHRASE.finditer(text):
        whose, kin = m[1].lower(), m[2].lower()
        if sex is not None and kin in (FEMALE if sex == "male" else MALE):
            continue
        after = re.match(r"\s+([A-Z][\w']*)", text[m.end() :])
        if after and names.get(after[1].lower().removesuffix("'s"), dead) != dead:
            continue  # "thy brother Bassianus": the phrase names Bassianus
        who = [speaker] if whose in ("my", "our") else [h for h in hearers if h != speaker]
        if whose in ("his", "her", "their"):
            who = list(hearers)
        if any(roles.get((w, dead)) == WORD_ROLE[kin] for w in who):
            found.append(m.span())
    return found


@dataclass(frozen=True)
class Telling:
    dead: str
    scene: str  # when the hearers learn it: "4.5"
    hearers: tuple[str, ...]
    source: str


def tells(
    scene: Scene, i: int, dead: str, names: dict[str, str], roles: dict, sex: str | None = None
) -> bool:
    """Whether speech `i` of `scene` tells of `dead`'s death: a word of death that says
    what points at them is dead (`says_dead`), or a word of death opening the answer to a
    question that points at them ("Where is my father?" / "Dead.")."""
    s = scene.speeches[i]
    if not DEATH_WORDS.search(s.text):
        return False
    if says_dead(s.text, pointers(s.text, dead, s.speaker, heard_by(s), names, roles, sex)):
        return True
    cue = scene.speeches[i - 1] if i else None
    opening = " ".join(s.text.split()[:NEAR])
    if cue is None or not DEATH_WORDS.search(opening) or NOT_SO.search(opening):
        return False
    asked = [
        (start, end)
        for start, end in pointers(cue.text, dead, cue.speaker, heard_by(cue), names, roles, sex)
        if "?" in CLAUSE_END.findall(cue.text[end:])[:1]  # the pointer's sentence asks
    ]
    return bool(asked)


def tellings(play: Play, deaths: Sequence[Death], names: dict[str, str]) -> list[Telling]:
    """Every speech after a death that tells of it, with who heard it."""
    kin = kin_roles(play, names)
    found = []
    for death in deaths:
        sex = gender(play, death.name)
        started = False
        for scene in play.scenes():
            started = started or scene.id == death.scene
            if not started:
                continue
            for i, s in enumerate(scene.speeches):
                if s.index > death.index and tells(scene, i, death.name, names, kin, sex):
                    where = f"{play.key} {scene.id}, speech {s.index}"
                    found.append(Telling(death.name, scene.id, heard_by(s), where))
    return found


def reported_deaths(play: Play, known: Sequence[Death], names: dict[str, str]) -> list[Death]:
    """Deaths no stage direction shows but a speech reports: a speech with a word of
    death pointing at a character who has spoken, is not on stage, and never speaks
    again ("your sister's drown'd, Laertes" in Hamlet 4.7). First report only."""
    kin = kin_roles(play, names)
    last: dict[str, int] = {}
    for s in play.speeches():
        last[s.speaker] = s.index  # by name: an "All" on stage with a corpse is not her
    dead = {d.name for d in known}
    found: list[Death] = []
    for scene in play.scenes():
        for i, s in enumerate(scene.speeches):
            if not DEATH_WORDS.search(s.text):
                continue
            for who, spoke in last.items():
                if who in dead or spoke >= s.index or who in s.on_stage:
                    continue
                if tells(scene, i, who, names, kin, gender(play, who)):
                    dead.add(who)
                    source = f"{play.key} {scene.id}: told by {s.speaker}"
                    found.append(Death(who, scene.id, list(heard_by(s)), source, s.index))
    return found
