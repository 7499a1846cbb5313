"""The stage voice: one LoRA trained on the speeches of many characters in many plays,
stacked under each character's own adapter when a scene is staged (agents/lora.py).

A character's adapter learns from a few hundred of that character's speeches. The stage
voice learns from thousands, spread over the plays, how any speech on a page answers the
one before it; the character's adapter then only has to add the person. llama.cpp applies
both at once, each with its own scale.

Data: in each chosen play, the `speakers` characters with the most speeches; of each, up
to `per_speaker` speeches drawn at random, each prompted exactly as the agents serve
(dataset.build_examples). Validation holds out whole plays (every `val_every`-th chosen
play, in name order), so its perplexity is measured on plays it never trained on.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from dramatis.core.errors import DramatisError
from dramatis.training.dataset import (
    CountTokens,
    DataConfig,
    Dataset,
    Example,
    RenderChat,
    build_examples,
)

STAGE_VOICE = "Stage voice"  # its name in the adapter registry
VOICE_PLAY = "plays"  # and its "play": registry key plays.stage-voice


@dataclass(frozen=True)
class VoiceConfig:
    plays: tuple[str, ...] = ()  # play keys; empty: every bundled play
    exclude: tuple[str, ...] = ()  # play keys left out (e.g. the plays an evaluation stages)
    speakers: int = 3  # characters per play, those with the most speeches
    per_speaker: int = 12  # speeches per character, drawn at random
    min_words: int = 4  # shorter speeches ("Ay, my lord.") teach little of a voice
    val_every: int = 8  # every n-th chosen play is held out for validation
    seed: int = 0

    def to_json(self) -> dict:
        return {**self.__dict__, "plays": list(self.plays), "exclude": list(self.exclude)}


def chosen_plays(cfg: VoiceConfig, known: Sequence[str]) -> list[str]:
    """The plays to draw from, in name order; an unknown key is a one-line error.

    chosen_plays(VoiceConfig(exclude=("hamlet",)), ["hamlet", "lear"]) -> ["lear"]
    """
    for key in (*cfg.plays, *cfg.exclude):
        if key not in known:
            raise DramatisError(
                f"unknown play {key!r} for the stage voice: one of {', '.join(known)}"
            )
    wanted = cfg.plays or tuple(known)
    plays = sorted(p for p in wanted if p not in cfg.exclude)
    if len(plays) < 2:
        raise DramatisError(
            "the stage voice needs at least 2 plays (one is held out for validation): "
            "name more with --voice-play, or exclude fewer"
        )
    return plays


def held_out(plays: Sequence[str], every: int) -> list[str]:
    """Validation plays: every `every`-th, at least one, never all.

    held_out(["a", "b", "c"], 8) -> ["c"]; held_out(["a", "b", "c", "d"], 2) -> ["b", "d"]
    """
    picked = [p for i, p in enumerate(plays, start=1) if i % every == 0][: len(plays) - 1]
    return picked or [plays[-1]]


def top_speakers(play, n: int, min_words: int) -> list[tuple[str, list[int]]]:
    """The `n` named characters with the most speeches of `min_words`+ words, with the
    indices of those speeches."""
    own: dict[str, list[int]] = {}
    for speech in play.speeches():
        if speech.resolved and len(speech.speakers) <= 1 and len(speech.text.split()) >= min_words:
            own.setdefault(speech.speaker, []).append(speech.index)
    ranked = Counter({name: len(idx) for name, idx in own.items()}).most_common(n)
    return [(name, own[name]) for name, _ in ranked]


def build_voice_dataset(
    cfg: VoiceConfig,
    data: DataConfig,
    count_tokens: CountTokens,
    render_chat: RenderChat | None = None,
    *,
    on_play: Callable[[str], None] = lambda _: None,
) -> Dataset:
    """Pairs from many characters of many plays, as served; validation: whole plays."""
    from dramatis.personas import find_persona, list_plays, load_play

    plays = chosen_plays(cfg, list_plays())
    val_plays = set(held_out(plays, cfg.val_every))
    rng = random.Random(cfg.seed)
    data = replace(data, min_words=cfg.min_words)
    train: list[Example] = []
    val: list[Example] = []
    for key in plays:
        on_play(key)
        play = load_play(key)
        for name, indices in top_speakers(play, cfg.speakers, cfg.min_words):
            try:
                card = find_persona(name, key)
            except DramatisError:
                continue  # a name the persons list cannot place: skipped, not guessed
            only = frozenset(rng.sample(indices, min(cfg.per_speaker, len(indices))))
            found = build_examples(play, card, data, count_tokens, render_chat, only=only)
            (val if key in val_plays else train).extend(found)
    rng.shuffle(train)
    if not train or not val:
        raise DramatisError("no speeches found for the stage voice in the chosen plays")
    return Dataset(STAGE_VOICE, VOICE_PLAY, train, val, sorted(val_plays))
