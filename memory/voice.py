"""Voice lore: a character's real exchanges, found by what is being said now.

An exchange is a cue (the speech just before, by someone else in the same scene) and
the character's reply. The index ranks exchanges by BM25 between the current context
and the cue plus the reply, so a prompt can show how this character really answered
talk like this. Built from the parsed plays in well under a second per character.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from dramatis.core.errors import DramatisError
from dramatis.memory.clock import END_OF_PLAY, Moment, known_at
from dramatis.personas import find_persona, load_play
from dramatis.personas.model import Speech
from dramatis.personas.persona import N_SAMPLES, Persona, sample_lines


@dataclass(frozen=True)
class Exchange:
    cue_speaker: str
    cue: str
    speaker: str
    reply: str
    scene_id: str


def terms(text: str) -> list[str]:
    """Lower-case word terms for matching.

    terms("What, my lord? Ay, sir.") -> ["what", "my", "lord", "ay", "sir"]
    """
    return re.findall(r"[a-z']+", text.lower())


MAX_WORDS = 50  # a reply longer than this is a set piece, not an answer to show


def last_words(text: str, n: int) -> str:
    """The last `n` words of `text`.

    last_words("a b c d", 2) -> "c d"
    """
    return " ".join(text.split()[-n:])


def exchanges_of(speeches: Sequence[Speech], name: str) -> list[Exchange]:
    """Every (cue, reply) pair where `name` answers someone else within one scene, the
    reply 3-50 words, the cue cut to its last 40 words."""
    found: list[Exchange] = []
    for cue, reply in zip(speeches, speeches[1:], strict=False):
        if reply.speaker != name or cue.speaker == name or cue.scene_id != reply.scene_id:
            continue
        if 3 <= len(reply.text.split()) <= MAX_WORDS:
            cue_text = last_words(cue.text, 40)
            found.append(Exchange(cue.speaker, cue_text, name, reply.text, reply.scene_id))
    return found


class VoiceIndex:
    """BM25 (k1, b) over exchanges; `search` gives the best ones for a context."""

    def __init__(self, exchanges: Sequence[Exchange], k1: float = 1.2, b: float = 0.75):
        self.exchanges = list(exchanges)
        self.k1, self.b = k1, b
        self._docs = [Counter(terms(f"{e.cue} {e.reply}")) for e in self.exchanges]
        lengths = [sum(d.values()) for d in self._docs]
        self._avg = sum(lengths) / max(1, len(lengths))
        self._lengths = lengths
        df: Counter[str] = Counter(t for d in self._docs for t in d)
        n = len(self._docs)
        self._idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def score(self, query: Iterable[str], i: int) -> float:
        """BM25 score of exchange `i` for the query terms."""
        doc, norm = self._docs[i], self.k1 * (1 - self.b + self.b * self._lengths[i] / self._avg)
        total = 0.0
        for term in set(query):
            tf = doc.get(term, 0)
            if tf:
                total += self._idf[term] * tf * (self.k1 + 1) / (tf + norm)
        return total

    def search(
        self, context: str, k: int = 2, skip: frozenset[str] = frozenset()
    ) -> list[Exchange]:
        """The `k` exchanges closest to `context`, best first; replies in `skip` are left out."""
        query = terms(context)
        ranked = sorted(
            (i for i, e in enumerate(self.exchanges) if e.reply not in skip),
            key=lambda i: (-self.score(query, i), i),
        )
        return [self.exchanges[i] for i in ranked[:k]]


@lru_cache(maxsize=32)
def voice_index(
    play: str, name: str, skip_scene: str = "", before: str = END_OF_PLAY
) -> VoiceIndex:
    """The index of a character's exchanges in a play ("hamlet", "Hamlet"), leaving out
    scene "3.1" if given, and every scene from the horizon `before` ("1.2") on."""
    found = exchanges_of(load_play(play).speeches(), name)
    kept = [e for e in found if e.scene_id != skip_scene and known_at(e.scene_id, before)]
    return VoiceIndex(kept)


def lines_before(play: str, name: str, horizon: str, n: int) -> list[str]:
    """Up to `n` of `name`'s speeches (each its lines, as Persona.sample_lines holds them)
    from scenes before `horizon`, spread over what there is; [] for a character who has
    not spoken yet (Hamlet at 1.2)."""
    said = [s for s in load_play(play).speeches() if s.speaker == name]
    return sample_lines([s for s in said if known_at(s.scene_id, horizon)], n)


def at_horizon(persona: Persona, horizon: str) -> Persona:
    """The persona as its prompt may show it at `horizon`: its sample lines only from
    scenes before it (cards, lorebooks and whole-play horizons are left as they are)."""
    if persona.card_source is not None or Moment.parse(horizon) >= Moment.parse(END_OF_PLAY):
        return persona
    try:
        lines = lines_before(persona.play, persona.name, horizon, N_SAMPLES)
    except DramatisError:  # no such play: nothing of it to leak
        return persona
    return persona.model_copy(update={"sample_lines": lines})


# Own words: words of four letters or more a character uses far more than the rest of
# its play, proper names and the commonest function words left out.
OWN_WORDS = 24
COMMON = frozenset((
    "that", "this", "with", "have", "will", "what", "thou", "thee", "thy", "thine", "your",
    "yours", "them", "they", "their", "there", "then", "than", "which", "shall", "would",
    "should", "could", "must", "were", "been", "being", "more", "most", "some", "such",
    "very", "well", "when", "where", "here", "upon", "into", "unto", "from", "doth",
    "hath", "tis",
))  # fmt: skip
_WORD = re.compile(r"[A-Za-z']+")


def distinctive(
    own: Sequence[str], others: Sequence[str], n: int = OWN_WORDS, least: int = 3
) -> tuple[str, ...]:
    """Up to `n` words of the `own` speeches that the `others` use at under half the
    rate, ranked by the word's own rate times the log of the two rates' ratio: said at
    least `least` times, four letters or more, not in COMMON, and not a name (capitalised
    in most of its uses in either).

    distinctive(["Yellow stockings, yellow!", "Cross-gartered, yellow"],
                ["The sun is up and the day is fair"], least=2) -> ("yellow",)
    """
    mine: Counter[str] = Counter()
    rest: Counter[str] = Counter()
    capital: Counter[str] = Counter()
    for texts, counts in ((own, mine), (others, rest)):
        for text in texts:
            for raw in _WORD.findall(text):
                word = raw.lower().strip("'")
                counts[word] += 1
                capital[word] += raw[0].isupper()
    n_mine, n_rest = sum(mine.values()) or 1, sum(rest.values()) or 1
    score = {}
    for word, count in mine.items():
        if count < least or len(word) < 4 or word in COMMON:
            continue
        if capital[word] > 0.6 * (count + rest[word]):  # a name, or only line-initial
            continue
        ratio = (count / n_mine) / ((rest[word] + 1) / n_rest)
        if ratio >= 2:
            score[word] = count / n_mine * math.log(ratio)
    return tuple(sorted(score, key=lambda w: (-score[w], w))[:n])


@lru_cache(maxsize=32)
def own_words(
    play: str, name: str, before: str = END_OF_PLAY, n: int = OWN_WORDS
) -> tuple[str, ...]:
    """`name`'s distinctive words in `play` from the scenes before the horizon `before`,
    against the play's other speakers in the same scenes."""
    said = [s for s in load_play(play).speeches() if known_at(s.scene_id, before)]
    own = [s.text for s in said if s.speaker == name]
    return distinctive(own, [s.text for s in said if s.speaker != name], n) if own else ()


class PlayVoices:
    """What agents ask for (agents.prompts.VoiceSource): real exchanges like the context.

    `horizons`: play key -> the scene its characters stand at ("1.2"); nothing from that
    scene or after it is shown (the story horizon, memory/clock.py). A play not named is
    known whole. `skip_scene`: one scene left out besides (a training example's own)."""

    def __init__(
        self,
        plays: dict[str, str] | None = None,
        skip_scene: str = "",
        exclude: Iterable[str] = (),
        horizons: Mapping[str, str] | None = None,
    ) -> None:
        self.plays = dict(plays or {})  # name -> play key; others: the default cast's
        self.skip_scene = skip_scene
        self.exclude = frozenset(exclude)  # lines never to show (e.g. a judge's held-out set)
        self.horizons = dict(horizons or {})

    def _placed(self, speaker: str) -> tuple[str, str, str]:
        """(the play, the speaker's name in it, the play's horizon); a speaker not named
        at construction is looked up (a DramatisError when no persona has the name)."""
        play = self.plays.get(speaker)
        if play is None:
            found = find_persona(speaker)
            speaker, play = found.name, found.play
        return play, speaker, self.horizons.get(play, END_OF_PLAY)

    def knows(self, name: str) -> bool:
        """Whether `name` is one of the characters named at construction (any name when
        none were): a scene's user, even one named like a character, is not."""
        return not self.plays or name in self.plays

    def examples(self, speaker: str, context: str, k: int) -> list[tuple[str, str, str]]:
        """(cue speaker, cue, reply) for up to `k` of `speaker`'s exchanges like `context`."""
        play, speaker, before = self._placed(speaker)
        try:
            index = voice_index(play, speaker, self.skip_scene, before)
        except DramatisError:  # an imported character, from no play: no real exchanges
            return []
        hits = index.search(context, k, self.exclude)
        return [(e.cue_speaker, e.cue, e.reply) for e in hits]

    def own_words(self, speaker: str, n: int = OWN_WORDS) -> tuple[str, ...]:
        """Up to `n` of `speaker`'s distinctive words (`distinctive`), from before the
        play's horizon; () for a character of no play."""
        try:
            return own_words(*self._placed(speaker), n)
        except DramatisError:
            return ()
