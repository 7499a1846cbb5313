"""An in-character critic for best-of-n: which candidate sounds most like its speaker.

Not the arena's judge, on purpose, so that choosing by it is not grading the test
(by default; see `cast_weight` below):
- other lines: it learns only from the scenes the arena's judge holds out (the third of
  every four scenes of each cast member, fewest-scene characters choosing first, the
  same rule as arena/attribution.py), so no line trains both;
- other features: function-word counts and punctuation marks (how a character builds
  a sentence: thou/you, ay/nay, O, questions), in a multinomial naive Bayes, where the
  judge reads character n-grams or word n-grams with a linear model.

With `cast_weight` (AgentSettings), the critic also adds a cast critic's log odds
(agents/cast_critic.py): the arena's discriminator's kind of classifier, fitted on the
same scenes' lines against the shipped model's own speeches; the discriminator then draws
its real speeches from the other scenes only, so no line serves both.

With `real_weight` (AgentSettings), a second term, `Realness`, also prefers the
candidate whose function words, marks and word lengths sound more like the plays than
like the shipped model's own speeches. Its table is fitted once, on the plays' speeches
(those of the plays the stage voice holds out left out) against the default's speeches on
the tuning casts; the arena's discriminator, fitted afresh per grid on the cast's real
lines, shares the function words among its word n-grams.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dramatis.core.errors import DramatisError
from dramatis.personas import Persona, Speech, load_play
from dramatis.personas.cards import CARD_PLAY
from dramatis.personas.vocabulary import plays_words, proper_names, tokens

if TYPE_CHECKING:  # the cast critic (and sklearn) loads only for a scene that asks for it
    from dramatis.agents.cast_critic import CastCritic

_WORDS = """a about again against all am an and any are as at ay be been but by can come did do
    does doth e'en ere for from go good had hast hath have he her here him his how i if in
    is it its let lord madam may me mine more most must my nay no nor not now o of oh on one
    or our pray shall she should sir so some such sweet than that the thee their them then
    there these they thine this those thou thus thy 'tis to too upon us very was we well
    were what when where which who why will with would ye yea yet you your"""
FUNCTION_WORDS = frozenset(_WORDS.split())
MARKS = ("?", "!", ";", ":", ",", "--")


def features(text: str) -> Counter[str]:
    """Function words and punctuation marks of a speech.

    features("O, thou art mad?") -> Counter({"o": 1, "thou": 1, ",": 1, "?": 1})
    """
    words = re.findall(r"[a-z']+", text.lower())
    found = Counter(w for w in words if w in FUNCTION_WORDS)
    found.update({m: text.count(m) for m in MARKS if m in text})
    return found


def realness_features(text: str) -> Counter[str]:
    """`features`, and the plays' other words by their letters ("<w4>": four letters,
    "<w9>": nine or more), so that how many content words a speech has, and how long, is
    heard too. A word no play uses (personas/vocabulary.py) is left out, so that a long
    modern word is never a mark of the plays.

    realness_features("O, sweet madness! Extraordinary.") -> Counter({"o": 1, "sweet": 1,
    ",": 1, "!": 1, "<w7>": 1, "<w9>": 1})
    """
    found = features(text)
    known = plays_words()
    for word in tokens(text):
        letters = sum(c.isalpha() for c in word)
        if letters and word not in FUNCTION_WORDS and word in known:
            found[f"<w{min(9, letters)}>"] += 1
    return found


REALNESS_FILE = Path(__file__).with_name("data") / "realness.json"
SHAPE = 5.0  # the gamma prior's shape: about five expected uses before the model's own count rules
TILT_MOST = 1.5  # `Realness.word_bias`: at most a 4.5-fold change of a word's odds
STEADY = 4  # `Realness.score` divides by a text's features plus this, so a one-word speech is not extreme


@functools.cache
def bundled_realness() -> Realness:
    """The shipped table, read once per process."""
    return Realness.load()


class Realness:
    """How much more a speech sounds like the plays than like the shipped model's own
    speeches: a two-class naive Bayes over `realness_features`, the plays' speeches
    against speeches the default staged (training/realness_build.py fits it;
    agents/data/realness.json ships it). The plays held out of the stage voice's
    training (training/canon.py HELD_OUT), whose casts the arena's held-out grids stage,
    are left out of the plays' side. Not the arena's discriminator: that one is fitted
    afresh on each grid, on character 2-4-grams and word 1-2-grams of the cast's own real
    lines; this one is fixed, and reads only function words, marks and word lengths."""

    def __init__(self, real: Counter[str], made: Counter[str], shape: float = SHAPE) -> None:
        """`real`, `made`: feature counts of the two classes. The plays' rate of a feature
        is its count's share (plus a half); the model's is a gamma-Poisson estimate
        centred on the plays' rate with `shape` (a feature the model's few thousand words
        never or seldom say, because the plays say it seldom too, gets about the plays'
        rate, not a large odds either way)."""
        self.real, self.made = real, made
        vocab = set(real) | set(made)
        real_total = sum(real.values()) + 0.5 * len(vocab)
        made_total = sum(made.values())
        self.log_odds = {}
        for f in vocab:
            plays = (real[f] + 0.5) / real_total
            model = (shape + made[f]) / (shape / plays + made_total)
            self.log_odds[f] = math.log(plays / model)

    @classmethod
    def fit(cls, real: Iterable[str], made: Iterable[str]) -> Realness:
        return cls(
            sum(map(realness_features, real), Counter()),
            sum(map(realness_features, made), Counter()),
        )

    def score(self, text: str) -> float:
        """The log odds real : made of `text`'s features, per feature (with `STEADY` more
        features that count 0, so a short speech scores near 0 rather than at an
        extreme; 0 for none)."""
        found = realness_features(text)
        n = sum(found.values())
        return sum(self.log_odds.get(f, 0.0) * k for f, k in found.items()) / (n + STEADY)

    def word_bias(self, weight: float, most: float = TILT_MOST) -> tuple[tuple[str, float], ...]:
        """`weight` times each function word's log odds, at most `most` either way, as
        `Sampling.tilted` takes it: a logit bias that moves a word's rate in the model's
        draws toward its rate in the plays. Like every logit it is divided by the
        temperature, so at the default 0.8 a weight of 1 moves a word's odds by the ratio of
        the two rates to the power 1.25. Marks and word lengths are not words to bias, nor
        are one-letter words: their tokens (" O", " I", " a") begin names and longer words
        (" O|thel|lo").

        A word the model says at twice the plays' rate gets about -0.69 at weight 1."""
        return tuple(
            (f, round(max(-most, min(most, weight * odds)), 4))
            for f, odds in sorted(self.log_odds.items())
            if f in FUNCTION_WORDS and len(f) > 1 and weight * odds
        )

    def to_json(self, manifest: dict) -> str:
        data = {
            "manifest": manifest,
            "real": dict(sorted(self.real.items())),
            "made": dict(sorted(self.made.items())),
        }
        return json.dumps(data, indent=1) + "\n"

    @classmethod
    def load(cls, path: Path = REALNESS_FILE) -> Realness:
        """The fitted counts in `path` (one line naming the file when it cannot be read)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            real, made = _counts(data, "real"), _counts(data, "made")
        except (OSError, UnicodeDecodeError, ValueError) as err:
            raise DramatisError(
                f"{path}: not a realness table ({err}); rebuild it with `make realness`"
            ) from None
        return cls(real, made)


def _counts(data: object, key: str) -> Counter[str]:
    """`data[key]` as feature counts: a non-empty object of whole numbers (ValueError
    saying what is wrong otherwise)."""
    counts = data.get(key) if isinstance(data, dict) else None
    if not isinstance(counts, dict) or not counts:
        raise ValueError(f'"{key}" must be a non-empty object of feature counts')
    if not all(type(v) is int and v >= 0 for v in counts.values()):
        raise ValueError(f'"{key}" counts must be whole numbers, 0 or more')
    return Counter(counts)


def held_out_scenes(scenes_of: dict[str, list[tuple[str, str]]], every: int = 4) -> set:
    """The (play, scene) pairs the arena's judge holds out: fewest-scene characters first
    (ties by name, so the cast's order does not matter),
    the third of every `every` of their scenes in play order."""
    chosen: dict[tuple[str, str], bool] = {}
    for name in sorted(scenes_of, key=lambda n: (len(set(scenes_of[n])), n)):
        for j, scene in enumerate(dict.fromkeys(scenes_of[name])):
            chosen.setdefault(scene, j % every == 2)
    return {scene for scene, held in chosen.items() if held}


class StyleCritic:
    """Naive Bayes over `features`, one class per cast member; with `realness` and a
    `weight`, each candidate's score also gains `weight` times its `Realness.score`
    (whose table is fitted on the plays, not on the cast's held-out scenes only)."""

    def __init__(
        self,
        lines: dict[str, Sequence[str]],
        alpha: float = 1.0,
        *,
        realness: Realness | None = None,
        weight: float = 0.0,
        cast: CastCritic | None = None,
        cast_weight: float = 0.0,
    ) -> None:
        if weight and realness is None:
            raise ValueError("a realness weight needs a realness table")
        self.realness, self.weight = realness, weight
        self.cast, self.cast_weight = cast, cast_weight
        self.counts = {name: sum(map(features, texts), Counter()) for name, texts in lines.items()}
        vocab = set().union(*self.counts.values()) if self.counts else set()
        self.log_p: dict[str, dict[str, float]] = {}
        for name, counts in self.counts.items():
            total = sum(counts.values()) + alpha * len(vocab)
            self.log_p[name] = {f: math.log((counts[f] + alpha) / total) for f in vocab}

    @classmethod
    def for_personas(
        cls,
        cast: Sequence[Persona],
        *,
        realness: Realness | None = None,
        weight: float = 0.0,
        cast_weight: float = 0.0,
        made: Sequence[str] | None = None,
    ) -> StyleCritic:
        """Trained on the cast's lines in the scenes the arena's judge holds out. An
        imported card character, who has no play, is known by its card's example lines
        (the judge has none of its lines to hold out). With `cast_weight`, the same lines
        fit a `CastCritic` against the shipped model speeches (agents/cast_critic.py), or
        against `made` (names masked) where given."""
        speeches: dict[str, list[tuple[str, Speech]]] = {}
        examples: dict[str, Sequence[str]] = {}
        for persona in cast:
            if persona.play == CARD_PLAY:
                examples[persona.name] = list(persona.sample_lines)
                continue
            own = [s for s in load_play(persona.play).speeches() if s.speaker == persona.name]
            speeches[persona.name] = [(persona.play, s) for s in own]
        scenes = {n: [(play, s.scene_id) for play, s in sp] for n, sp in speeches.items()}
        held = held_out_scenes(scenes)
        lines: dict[str, Sequence[str]] = {
            n: [s.text for play, s in sp if (play, s.scene_id) in held]
            for n, sp in speeches.items()
        }
        judge = None
        real = [text for texts in lines.values() for text in texts]
        if cast_weight:
            from dramatis.agents.cast_critic import LEAST_LINES, CastCritic, bundled_made

            if len(real) >= LEAST_LINES:
                plays = {p.play for p in cast if p.play != CARD_PLAY}
                names = proper_names(plays, also=speeches)
                judge = CastCritic(real, bundled_made() if made is None else made, names)
        return cls(
            {**lines, **examples},
            realness=realness,
            weight=weight,
            cast=judge,
            cast_weight=cast_weight if judge else 0.0,
        )

    def log_likelihood(self, name: str, text: str) -> float:
        """log P(features of `text` | `name`), per feature so that length does not rule."""
        found = features(text)
        n = sum(found.values())
        table = self.log_p[name]
        return sum(table.get(f, 0.0) * k for f, k in found.items()) / max(1, n)

    def rank(self, speaker: str, texts: Sequence[str]) -> list[float]:
        """How much more each text sounds like `speaker` than like the rest of the cast
        (plus `weight` times how much more it sounds like the plays than like the model,
        plus `cast_weight` times the cast critic's log odds of real over made)."""
        others = [n for n in self.log_p if n != speaker]
        scores = []
        for text in texts:
            own = self.log_likelihood(speaker, text)
            rest = max((self.log_likelihood(n, text) for n in others), default=own)
            real = self.weight * self.realness.score(text) if self.realness and self.weight else 0.0
            scores.append(own - rest + real)
        if self.cast is not None and self.cast_weight and texts:
            odds = self.cast.log_odds(texts)
            scores = [s + self.cast_weight * float(o) for s, o in zip(scores, odds, strict=True)]
        return scores
