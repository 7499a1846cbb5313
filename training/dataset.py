"""Training pairs from a parsed play: what the character saw -> what the character said.

Each prompt is built by `PromptMaker.prompt` (agents/character.py), the code the agents
serve with, over the training tokenizer: in the
page format (the default, as `dramatis stage` serves) a page of the play with the
persons on stage, the character's real exchanges most like the current talk (from
`memory.voice`, never from the target's own scene nor from a validation scene), the
scene's setting and the speeches the character witnessed before, within the agents'
own history budget; the target is the character's next speech. So an adapter learns
on exactly the prompts it will be served with.

Validation scenes are whole scenes held out: no validation scene ever trains, and no
line of one appears in a training prompt.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from dramatis.agents.character import AgentSettings, PersonaLike, PromptMaker
from dramatis.agents.model import Message
from dramatis.agents.turn import Turn, make_turn
from dramatis.core.errors import DramatisError
from dramatis.memory.voice import PlayVoices
from dramatis.personas.persona import card_line, describe

CountTokens = Callable[[str], int]
RenderChat = Callable[[Sequence[Message]], str | None]
SERVED = AgentSettings()  # what the agents serve with, unless a scene overrides it
MAX_PERSONS = 6  # persons listed on a training page (a staged cast has 2-4)


@dataclass(frozen=True)
class DataConfig:
    prompt_format: str = "page"  # the format served: "page" (stage default) or "chat"
    history_tokens: int = SERVED.history_tokens  # visible-transcript budget, as served
    n_samples: int = SERVED.n_samples  # voice samples (the chat card, a page without examples)
    n_examples: int = SERVED.n_examples  # real exchanges on the page, as served
    val_fraction: float = 0.15  # share of the character's speeches held out, by whole scenes
    min_words: int = 1  # skip targets shorter than this
    curriculum: bool = False  # easy-to-hard stages instead of a plain shuffle
    stages: int = 3
    seed: int = 0


@dataclass(frozen=True)
class Example:
    """One pair: the prompt the agent would send, and the speech it should give."""

    speaker: str
    scene_id: str  # "3.1"
    index: int  # the target speech's position in the play
    prompt: str  # rendered as served (page text, or the chat template's text)
    target: str
    prompt_format: str = "page"


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
            "format": both[0].prompt_format if both else "",
        }
        if count_tokens and both:
            out["mean_target_tokens"] = round(
                sum(count_tokens(e.target) for e in both) / len(both), 1
            )
            out["mean_prompt_tokens"] = round(
                sum(count_tokens(e.prompt) for e in both) / len(both), 1
            )
        return out


class TokenizerView:
    """The training tokenizer as prompt building sees a model (agents.model.PromptModel):
    it counts tokens and renders the chat template; it has nothing to generate with."""

    name = "training-tokenizer"
    context_length = 2048  # the served context the prompts are budgeted for

    def __init__(self, count_tokens: CountTokens, render_chat: RenderChat | None = None):
        self._count = count_tokens
        self._render = render_chat

    def count_tokens(self, text: str) -> int:
        return self._count(text)

    def render_chat(self, messages: Sequence[Message]) -> str | None:
        return self._render(messages) if self._render else None


def one_line(text: str) -> str:
    """Whitespace collapsed, as the agents show speeches in the transcript.

    one_line("To be,\\n  or not") -> "To be, or not"
    """
    return " ".join(text.split())


def target_scenes(play, name: str, min_words: int) -> dict[str, int]:
    """{scene id: speeches `name` gives alone there}, in play order."""
    counts: dict[str, int] = {}
    for speech in play.speeches():
        if speech.speaker == name and len(speech.text.split()) >= min_words:
            counts[speech.scene_id] = counts.get(speech.scene_id, 0) + 1
    return counts


def held_out_scenes(counts: dict[str, int], cfg: DataConfig, speaker: str) -> list[str]:
    """Validation scene ids: whole scenes, in a seeded order, until they hold
    `val_fraction` of the targets; at least one scene stays on each side."""
    scenes = list(counts)
    if len(scenes) < 2:
        raise DramatisError(
            f"{speaker} speaks in {len(scenes)} scene(s): a scene split needs at least 2 "
            "(pick a character with more lines)"
        )
    order = scenes[:]
    random.Random(cfg.seed).shuffle(order)
    want, held = cfg.val_fraction * sum(counts.values()), list[str]()
    for scene in order:
        if sum(counts[s] for s in held) >= want or len(held) == len(scenes) - 1:
            break
        held.append(scene)
    return sorted(held, key=lambda s: tuple(map(int, s.split("."))))


_PERSONS: dict[tuple[str, str], str] = {}


def _person(play, name: str) -> str:
    key = (play.key, name)
    if key not in _PERSONS:
        _PERSONS[key] = card_line(name, describe(play, name))
    return _PERSONS[key]


def persons_on_stage(play, card: PersonaLike, on_stage: Sequence[str]) -> list[str]:
    """The page's list of persons: the speaker's own card, then up to MAX_PERSONS - 1
    others on stage (a minor role by its persons-list line, or its bare name)."""
    others = [n for n in on_stage if n != card.name][: MAX_PERSONS - 1]
    return [card.card(), *(_person(play, n) for n in others)]


def build_examples(
    play,
    card: PersonaLike,
    cfg: DataConfig,
    count_tokens: CountTokens,
    render_chat: RenderChat | None = None,
    *,
    val_scenes: Sequence[str] = (),
    only: frozenset[int] | None = None,
) -> list[Example]:
    """Every speech `card.name` gives alone in `play` (or those of them whose index is
    in `only`), prompted as an agent would be.

    Real exchanges on a page come from other scenes than the target's, and never from
    `val_scenes` (so validation lines stay unseen by training prompts)."""
    tokenizer = TokenizerView(count_tokens, render_chat)
    settings = AgentSettings(
        prompt_format=cfg.prompt_format,
        history_tokens=cfg.history_tokens,
        n_samples=cfg.n_samples,
        n_examples=cfg.n_examples,
    )
    held = set(val_scenes)
    unseen = frozenset(s.text for s in play.speeches() if s.scene_id in held)
    examples: list[Example] = []
    for scene in play.scenes():
        voice = PlayVoices({card.name: play.key}, skip_scene=scene.id, exclude=unseen)
        hidden = frozenset(one_line(t) for t in unseen | {s.text for s in scene.speeches})
        seen: list[Turn] = []  # speeches of this scene so far, with who was on stage
        setting = play.setting_line(scene)
        for speech in scene.speeches:
            text = one_line(speech.text)
            wanted = only is None or speech.index in only
            if wanted and speech.speaker == card.name and len(text.split()) >= cfg.min_words:
                cast = list(speech.on_stage) or [card.name]
                maker = PromptMaker(
                    card,
                    tokenizer,
                    cast=cast,
                    settings=settings,
                    voice=voice,
                    persons=persons_on_stage(play, card, cast),
                    hidden=hidden,  # no target shown as its own voice sample
                )
                prompt, fmt = maker.prompt(seen, setting)
                examples.append(Example(card.name, scene.id, speech.index, prompt, text, fmt))
            seen.append(
                make_turn(
                    len(seen), speech.speaker, text, source="play", present=list(speech.on_stage)
                )
            )
    return examples


def build_dataset(
    play,
    card: PersonaLike,
    cfg: DataConfig,
    count_tokens: CountTokens,
    render_chat: RenderChat | None = None,
) -> Dataset:
    """Pairs for `card` from `play`, split by scene, training part in training order."""
    from dramatis.training.curriculum import order_examples

    counts = target_scenes(play, card.name, cfg.min_words)
    if not counts:
        raise DramatisError(
            f"{card.name} has no speeches in {play.title}: check the name or pass --play"
        )
    held = held_out_scenes(counts, cfg, card.name)
    examples = build_examples(play, card, cfg, count_tokens, render_chat, val_scenes=held)
    train = [e for e in examples if e.scene_id not in held]
    val = [e for e in examples if e.scene_id in held]
    train = order_examples(train, curriculum=cfg.curriculum, stages=cfg.stages, seed=cfg.seed)
    return Dataset(card.name, play.key or play.title, train, val, held)
