"""An in-character critic for best-of-n: which candidate sounds most like its speaker.

Not the arena's judge, on purpose, so that choosing by it is not grading the test:
- other lines: it learns only from the scenes the arena's judge holds out (the third of
  every four scenes of each cast member, fewest-scene characters choosing first, the
  same rule as arena/attribution.py), so no line trains both;
- other features: function-word counts and punctuation marks (how a character builds
  a sentence: thou/you, ay/nay, O, questions), in a multinomial naive Bayes, where the
  judge reads character n-grams or word n-grams with a linear model.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from dramatis.personas import Persona, Speech, load_play
from dramatis.personas.cards import CARD_PLAY

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


def held_out_scenes(scenes_of: dict[str, list[tuple[str, str]]], every: int = 4) -> set:
    """The (play, scene) pairs the arena's judge holds out: fewest-scene characters first,
    the third of every `every` of their scenes in play order."""
    chosen: dict[tuple[str, str], bool] = {}
    for name in sorted(scenes_of, key=lambda n: len(set(scenes_of[n]))):
        for j, scene in enumerate(dict.fromkeys(scenes_of[name])):
            chosen.setdefault(scene, j % every == 2)
    return {scene for scene, held in chosen.items() if held}


class StyleCritic:
    """Naive Bayes over `features`, one class per cast member."""

    def __init__(self, lines: dict[str, Sequence[str]], alpha: float = 1.0) -> None:
        self.counts = {name: sum(map(features, texts), Counter()) for name, texts in lines.items()}
        vocab = set().union(*self.counts.values()) if self.counts else set()
        self.log_p: dict[str, dict[str, float]] = {}
        for name, counts in self.counts.items():
            total = sum(counts.values()) + alpha * len(vocab)
            self.log_p[name] = {f: math.log((counts[f] + alpha) / total) for f in vocab}

    @classmethod
    def for_personas(cls, cast: Sequence[Persona]) -> StyleCritic:
        """Trained on the cast's lines in the scenes the arena's judge holds out. An
        imported card character, who has no play, is known by its card's example lines
        (the judge has none of its lines to hold out)."""
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
        return cls({**lines, **examples})

    def log_likelihood(self, name: str, text: str) -> float:
        """log P(features of `text` | `name`), per feature so that length does not rule."""
        found = features(text)
        n = sum(found.values())
        table = self.log_p[name]
        return sum(table.get(f, 0.0) * k for f, k in found.items()) / max(1, n)

    def rank(self, speaker: str, texts: Sequence[str]) -> list[float]:
        """How much more each text sounds like `speaker` than like the rest of the cast."""
        others = [n for n in self.log_p if n != speaker]
        scores = []
        for text in texts:
            own = self.log_likelihood(speaker, text)
            rest = max((self.log_likelihood(n, text) for n in others), default=own)
            scores.append(own - rest)
        return scores
