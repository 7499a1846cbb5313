"""Preference pairs for DPO: the same served page, the character's real line against a
line that is not the character's.

Every pair reuses an SFT `Example` from `build_dataset` (the agent's own prompt for that
moment of the play), so DPO trains on exactly what the agent serves. The chosen reply is
the character's real speech; the rejected one is

- another character's real speech from the same scene (a comparable context), one of
  the `nearest` of similar length, picked by a seeded draw, never a speech already on
  the page (the prompt) and never the same words as the chosen one; or
- the model's own reply to that page (`with_own_replies`), optionally only the replies a
  given out-of-world test flags.

Train pairs come from training scenes only and validation pairs from validation scenes
only, rejected lines included: a validation scene never trains, on either side of a pair.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from dramatis.core.errors import DramatisError
from dramatis.personas.model import GROUP_SPEAKERS
from dramatis.training.dataset import Dataset, Example, one_line

OWN = "model"  # `rejected_by` of a pair whose rejected reply the model wrote itself


@dataclass(frozen=True)
class PairConfig:
    nearest: int = 5  # candidates of the closest length the rejected line is drawn from
    own_replies: int = 0  # train pairs that also get the model's own reply as rejected
    seed: int = 0


@dataclass(frozen=True)
class PreferencePair:
    """A served prompt, the character's real line (chosen) and a line to rank below it."""

    example: Example  # the SFT pair: prompt as served, target = the chosen line
    rejected: str
    rejected_by: str  # the other speaker, or OWN for the model's own reply

    @property
    def chosen(self) -> str:
        return self.example.target

    def as_example(self, side: str) -> Example:
        """The pair's prompt with the chosen or the rejected line as its target."""
        if side == "chosen":
            return self.example
        e = self.example
        return Example(e.speaker, e.scene_id, e.index, e.prompt, self.rejected, e.prompt_format)


@dataclass
class PreferenceSet:
    character: str
    play: str
    train: list[PreferencePair]
    val: list[PreferencePair]
    val_scenes: list[str] = field(default_factory=list)

    def stats(self) -> dict[str, int | str]:
        own = sum(p.rejected_by == OWN for p in self.train)
        return {
            "pairs": len(self.train) + len(self.val),
            "train_pairs": len(self.train),
            "val_pairs": len(self.val),
            "own_replies": own,
            "val_scenes": ", ".join(self.val_scenes),
        }


@dataclass(frozen=True)
class Line:
    speaker: str
    scene_id: str
    index: int
    text: str  # on one line, as the page shows speeches


def others_lines(play, character: str, min_words: int = 1) -> dict[str, list[Line]]:
    """{scene id: speeches of everyone but `character`}, groups ("All") left out."""
    out: dict[str, list[Line]] = {}
    for s in play.speeches():
        text = one_line(s.text)
        if s.speaker == character or s.speaker in GROUP_SPEAKERS or character in s.speakers:
            continue
        if len(text.split()) >= min_words:
            out.setdefault(s.scene_id, []).append(Line(s.speaker, s.scene_id, s.index, text))
    return out


def pick_rejected(example: Example, candidates: Sequence[Line], cfg: PairConfig) -> Line | None:
    """One of the `cfg.nearest` candidates closest in length (words) to the target, drawn
    with a seed of its own per target (so one pair's draw never depends on another's).

    Candidates already on the example's page, or with the target's own words, are out.
    """
    same = example.target.lower()
    usable = [c for c in candidates if c.text.lower() != same and c.text not in example.prompt]
    if not usable:
        return None
    words = len(example.target.split())
    usable.sort(key=lambda c: (abs(len(c.text.split()) - words), c.index))
    draw = random.Random(f"{cfg.seed}:{example.scene_id}:{example.index}")
    return draw.choice(usable[: cfg.nearest])


def pairs_for(
    examples: Sequence[Example],
    lines: dict[str, list[Line]],
    scenes: Sequence[str],
    cfg: PairConfig,
) -> list[PreferencePair]:
    """A pair per example: a rejected line from its own scene, else from `scenes` (the
    examples' side of the split); an example with no candidate at all is skipped."""
    pool = [line for s in scenes for line in lines.get(s, [])]
    pairs = []
    for e in examples:
        found = pick_rejected(e, lines.get(e.scene_id, []), cfg) or pick_rejected(e, pool, cfg)
        if found is not None:
            pairs.append(PreferencePair(e, found.text, found.speaker))
    return pairs


def build_preferences(play, data: Dataset, cfg: PairConfig) -> PreferenceSet:
    """Preference pairs over `data` (from `build_dataset`), split as `data` is."""
    lines = others_lines(play, data.character)
    val_scenes = set(data.val_scenes)
    train_scenes = sorted({s for s in lines if s not in val_scenes})
    train = pairs_for(data.train, lines, train_scenes, cfg)
    val = pairs_for(data.val, lines, sorted(val_scenes), cfg)
    if not train or not val:
        raise DramatisError(
            f"{data.character} has no other speaker's lines to rank below its own in "
            f"{'training' if not train else 'validation'} scenes of {data.play}: "
            "DPO needs a character who shares scenes with others"
        )
    return PreferenceSet(data.character, data.play, train, val, list(data.val_scenes))


Reply = Callable[[str], str]  # page prompt -> the model's own next speech


def with_own_replies(
    prefs: PreferenceSet, reply: Reply, limit: int, keep: Callable[[str], bool] | None = None
) -> PreferenceSet:
    """`prefs` with up to `limit` more train pairs whose rejected reply is the model's own
    for that page (the first `limit` train prompts); with `keep`, only replies it flags
    (an out-of-world test, say). Empty replies and the real line itself are dropped."""
    extra = []
    for pair in prefs.train[:limit]:
        text = one_line(reply(pair.example.prompt))
        if text and text.lower() != pair.chosen.lower() and (keep is None or keep(text)):
            extra.append(PreferencePair(pair.example, text, OWN))
    return PreferenceSet(
        prefs.character, prefs.play, prefs.train + extra, prefs.val, prefs.val_scenes
    )


def pairs_sha256(prefs: PreferenceSet) -> str:
    """Content hash of the pairs and their split (order included)."""
    digest = hashlib.sha256()
    for part, pairs in (("train", prefs.train), ("val", prefs.val)):
        for p in pairs:
            e = p.example
            row = [part, e.scene_id, e.index, e.prompt_format, e.prompt, p.chosen, p.rejected]
            digest.update(json.dumps(row).encode())
    return digest.hexdigest()
