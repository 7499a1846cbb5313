"""Training pairs from a parsed play: what the character saw -> what the character said.

Each pair is built with the agents' own prompt code (`agents/prompts.py`, chat format):
the system card from the persona, the scene setting, the speeches the character
witnessed earlier in the scene (newest kept, within a token budget, exactly like
`CharacterAgent.visible`), and the character's next speech as the target. So an
adapter is trained on the prompts it will be served with.

Validation scenes are whole scenes held out: no validation scene ever trains.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from dramatis.agents.character import PersonaLike
from dramatis.agents.model import Message
from dramatis.agents.prompts import PromptInput, chat_messages, fit_history
from dramatis.agents.turn import Turn, make_turn
from dramatis.core.errors import DramatisError

CountTokens = Callable[[str], int]


@dataclass(frozen=True)
class DataConfig:
    history_tokens: int = (
        256  # visible-transcript budget (agents use 900; 256 keeps CPU steps short)
    )
    n_samples: int = 4  # voice examples in the system card, as AgentSettings.n_samples
    val_fraction: float = 0.15  # share of the character's speeches held out, by whole scenes
    min_words: int = 1  # skip targets shorter than this
    curriculum: bool = False  # easy-to-hard stages instead of a plain shuffle
    stages: int = 3
    seed: int = 0


@dataclass(frozen=True)
class Example:
    """One pair: the chat messages the agent would send, and the speech it should give."""

    speaker: str
    scene_id: str  # "3.1"
    index: int  # the target speech's position in the play
    messages: tuple[Message, ...]
    target: str


@dataclass
class Dataset:
    character: str
    play: str
    train: list[Example]
    val: list[Example]
    val_scenes: list[str] = field(default_factory=list)

    def stats(self, count_tokens: CountTokens | None = None) -> dict[str, float | int | str]:
        """Sizes, and mean prompt/target tokens when a token counter is given."""
        both = self.train + self.val
        out: dict[str, float | int | str] = {
            "character": self.character,
            "play": self.play,
            "examples": len(both),
            "train": len(self.train),
            "val": len(self.val),
            "train_scenes": len({e.scene_id for e in self.train}),
            "val_scenes": ", ".join(self.val_scenes),
        }
        if count_tokens and both:
            out["mean_target_tokens"] = round(
                sum(count_tokens(e.target) for e in both) / len(both), 1
            )
            prompt = [sum(count_tokens(m.content) for m in e.messages) for e in both]
            out["mean_prompt_tokens"] = round(sum(prompt) / len(prompt), 1)
        return out


def one_line(text: str) -> str:
    """Whitespace collapsed, as the agents show speeches in the transcript.

    one_line("To be,\\n  or not") -> "To be, or not"
    """
    return " ".join(text.split())


def build_examples(
    play, card: PersonaLike, cfg: DataConfig, count_tokens: CountTokens
) -> list[Example]:
    """Every speech `card.name` gives alone in `play`, with the visible context before it."""
    samples = tuple(card.sample_lines[: cfg.n_samples])
    summary = card.card()
    examples: list[Example] = []
    for scene in play.scenes():
        seen: list[Turn] = []  # speeches of this scene the character witnessed so far
        setting = play.setting_line(scene)
        for speech in scene.speeches:
            text = one_line(speech.text)
            if speech.speaker == card.name and len(text.split()) >= cfg.min_words:
                p = PromptInput(
                    speaker=card.name,
                    summary=summary,
                    samples=samples,
                    setting=setting,
                    cast=tuple(speech.on_stage) or (card.name,),
                    history=tuple(fit_history(seen, cfg.history_tokens, count_tokens)),
                )
                examples.append(
                    Example(card.name, scene.id, speech.index, tuple(chat_messages(p)), text)
                )
            if card.name in speech.on_stage or speech.speaker == card.name:
                seen.append(make_turn(len(seen), speech.speaker, text, source="play"))
    return examples


def split_by_scene(
    examples: list[Example], cfg: DataConfig
) -> tuple[list[Example], list[Example], list[str]]:
    """(train, val, val scene ids): whole scenes go to validation until it holds
    `val_fraction` of the examples; at least one scene stays on each side."""
    scenes = sorted({e.scene_id for e in examples}, key=lambda s: tuple(map(int, s.split("."))))
    if len(scenes) < 2:
        raise DramatisError(
            f"{examples[0].speaker if examples else 'the character'} speaks in {len(scenes)} "
            "scene(s): a scene split needs at least 2 (pick a character with more lines)"
        )
    order = scenes[:]
    random.Random(cfg.seed).shuffle(order)
    per_scene = {s: sum(e.scene_id == s for e in examples) for s in scenes}
    want, held = cfg.val_fraction * len(examples), list[str]()
    for scene in order:
        if sum(per_scene[s] for s in held) >= want or len(held) == len(scenes) - 1:
            break
        held.append(scene)
    held_set = set(held)
    train = [e for e in examples if e.scene_id not in held_set]
    val = [e for e in examples if e.scene_id in held_set]
    return train, val, sorted(held, key=lambda s: tuple(map(int, s.split("."))))


def build_dataset(play, card: PersonaLike, cfg: DataConfig, count_tokens: CountTokens) -> Dataset:
    """Pairs for `card` from `play`, split by scene, training part in training order."""
    from dramatis.training.curriculum import order_examples

    examples = build_examples(play, card, cfg, count_tokens)
    if not examples:
        raise DramatisError(
            f"{card.name} has no speeches in {play.title}: check the name or pass --play"
        )
    train, val, held = split_by_scene(examples, cfg)
    train = order_examples(train, curriculum=cfg.curriculum, stages=cfg.stages, seed=cfg.seed)
    return Dataset(card.name, play.key or play.title, train, val, held)
