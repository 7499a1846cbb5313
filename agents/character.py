"""CharacterAgent: persona + what this character saw -> one clean utterance."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from dramatis.agents.addressing import misaddressed, plays_forms
from dramatis.agents.budget import SHARES, Fit, fit_prompt, prompt_room
from dramatis.agents.critic import bundled_realness
from dramatis.agents.formats import get_format, render
from dramatis.agents.guard import (
    clean_utterance,
    copies,
    dwells,
    echoes,
    ends_sentence,
    heading_cut,
    heading_stops,
    holds,
    narrates,
    retells,
    rewords,
    trim_to_sentence,
)
from dramatis.agents.length import real_speeches, speech_bounds
from dramatis.agents.model import LanguageModel, PromptModel, Sampling
from dramatis.agents.prompts import (
    NUMERALS,
    OUT_OF_WORLD,
    PromptInput,
    VoiceSource,
    fit_history,
    out_of_world_words,
    person_line,
)
from dramatis.agents.recall import memory_cues, takes_up
from dramatis.agents.strangers import canon_homes, invented, named_strangers, plain
from dramatis.agents.titles import hearers, wrong_titles
from dramatis.agents.turn import Turn
from dramatis.agents.wrappers import SEED_STEP, best_of
from dramatis.core.errors import DramatisError
from dramatis.personas.corpus import list_plays
from dramatis.personas.lorebook import Lorebook, LoreEntry, active_lore, lore_text
from dramatis.personas.persona import play_speakers
from dramatis.personas.vocabulary import page_words, unknown
from dramatis.personas.world_info import lore_places

# The plays' small words a speech of up to 40 words most often says twice: the first 56
# by that count over the 37 plays, less two the stage voice already says too often
# ("what", "how") and words of address or content ("come", "sir", "good", "lord", "well",
# "love", "go"). Three quarters of the plays' repeats within a speech are of these words.
_SPARED = """the i you and to a my of it your he thou is me as that in him not her his be for
    thy we have this with will thee so no our she do are they all shall by them but was on
    if us would"""
SPARED_WORDS = tuple(_SPARED.split())


class PersonaLike(Protocol):
    """What an agent needs of a persona (dramatis.personas.Persona has it)."""

    name: str
    sample_lines: list[str]

    def card(self) -> str: ...


class MemorySource(Protocol):
    """What an agent asks of memory (dramatis.memory.SceneMemory has it): in-world lines
    the character remembers that bear on `cue`, most useful first."""

    def recall(self, character: str, cue: str, k: int) -> list[str]: ...


class Critic(Protocol):
    """Ranks candidate speeches for how much they sound like `speaker` (agents/critic.py)."""

    def rank(self, speaker: str, texts: Sequence[str]) -> list[float]: ...


@dataclass(frozen=True)
class AgentSettings:
    max_tokens: int = 60
    min_tokens: int = 0  # no line break or end of text before this many (0: off)
    temperature: float = 0.8
    top_p: float = 0.95
    # The tail cut before the temperature (a backend without `tail_cut` keeps its own):
    # the `top_k` likeliest tokens (0: all), and of those the ones at least `min_p` times
    # as likely as the first (0: off). llama.cpp's own cut (40 and 0.05) kept the plays'
    # rarer words from ever being drawn, and the discriminator heard it (docs/fidelity.md,
    # round 14: AUC 0.72 -> 0.53), so top_p cuts the tail; top_k 5000 only keeps the sort
    # small: it binds at 0.6% of the voice's tokens, and with none llama.cpp sorts the
    # whole 262k vocabulary at every token (1.74x the seconds a token against 1.10x;
    # round 15).
    top_k: int = 5000
    min_p: float = 0.0
    repeat_penalty: float = 1.2
    max_lines: int = 4  # a turn is a speech, not a monologue
    retries: int = 3  # extra attempts, other seeds, when a reply is empty or parrots a turn
    history_tokens: int = 900  # budget for the visible transcript in the prompt
    # A registered format (agents/formats.py): "page" | "auto" | "chat" | "script". The page for
    # every caller (stage, chat, serve, training pairs): the chat template narrates about
    # the play instead of speaking in it (docs/fidelity.md); "auto" picks it where a model has one.
    prompt_format: str = "page"
    n_samples: int = 4  # voice examples from the persona
    memory_k: int = 4  # memories asked of a MemorySource per turn
    memory_tokens: int = 160  # budget for them in the prompt
    # Steering toward what memory brings (agents/recall.py; docs/memory.md measures both;
    # they act only when memory is on and its lines hold words the page does not):
    memory_boost: float = 3.0  # logit bias on those words (5 turned speeches into lists)
    prefer_memory: bool = True  # best-of-n keeps a candidate that takes one up, if any does
    n_examples: int = 2  # real exchanges like the current talk (page format, with a voice source)
    # Where the page shows real exchanges: "turn", the speaker's own most like the last
    # speeches, below the transcript, picked again every turn; "scene", `n_examples` of
    # every cast member's most like the setting (the cast's names without one), above the
    # transcript, the same all scene
    # (every speaker's page is then the same up to its heading, so llama.cpp reuses all of
    # it: docs/architecture.md, "Prompt layout and saved prefixes"); "both": the scene's
    # above the transcript and the speaker's own below it.
    examples_place: str = "turn"
    # Defaults chosen from the arena's numbers (docs/fidelity.md, configuration "tuned").
    ban_out_of_world: bool = True  # logit bias against OUT_OF_WORLD words and NUMERALS
    presence_penalty: float = 0.3
    best_of: int = 1  # candidates per turn; the critic keeps one (cost: n times the tokens)
    # Also retry a turn that rewords one earlier turn, or says one of 3+ words again inside
    # a longer speech (guard.py: rewords, retells, holds).
    near_repeats: bool = True
    # Best-of-n keeps a candidate that moves the talk on, when one does: not one that only
    # turns over the last speeches' topic words (guard.py: dwells). No extra draws.
    move_on: bool = False
    # Length: each speech runs at least this share of one of the character's real
    # speeches, in tokens, drawn by the turn's seed (agents/length.py; 0: off, and
    # `min_tokens` alone applies).
    length_share: float = 0.8
    # Length: once past its floor, a speech ends at its first sentence end, so that its
    # length follows the drawn real speech both ways (false: it runs on until the model
    # stops). Off: on the round-4 casts it cut speeches under the real length (Othello and
    # Iago 4 words against 10.5) and left the long ones long (docs/fidelity.md, round 6).
    end_past_floor: bool = False
    # Length: a speech's token limit is this multiple of the same drawn real speech (at
    # least 12 tokens, at most `max_tokens`); cut there it runs on to its sentence's end
    # or keeps its whole sentences (0: off, `max_tokens` alone). Round 7 of
    # docs/fidelity.md: on with the voice, whose speeches ran to the limit (24 words a
    # speech against the real 14 on held-out casts).
    length_ceiling: float = 1.0
    # The repeat and presence penalties leave commas alone (agents/model.py
    # Sampling.spare_commas), so that a comma once used is not pushed out by dashes
    # (docs/fidelity.md, round 7).
    spare_commas: bool = True
    # The repeat and presence penalties leave alone the plays' small words that a speech
    # most often says twice (SPARED_WORDS: "the", "I", "you", "and"...), which they
    # otherwise push out after one use; staged in round 21 of docs/fidelity.md, it raised
    # the discriminator's AUC, so it is off.
    spare_words: bool = False
    # Endings: a speech the token limit cuts inside a sentence runs on for up to this many
    # tokens to the sentence's end; what is still unfinished is trimmed to the last whole
    # sentence (none: the draw is retried). 0: trimmed only. 8 since round 8 of
    # docs/fidelity.md: 24 let speeches run on in long clause chains (17 words a speech
    # against the real 13.5 on the round-4 casts; 12 with 8).
    finish_tokens: int = 8
    # In a chat, the person's line in the page's list of persons, so the characters know
    # whom they talk to ("Anna, a gentlewoman of Verona."; empty: not listed).
    human_card: str = ""
    # Own words: a logit bias on up to 24 words the character uses far more than the rest
    # of its play (memory/voice.py `distinctive`: Malvolio's "yellow", "stockings",
    # "greatness"), each until someone in the scene has said it (0: off).
    own_words: float = 0.0
    # World info attached to the scene (`--lore`): lorebooks imported with `dramatis lore
    # import`, comma-separated; "Name=book" attaches one to that character only.
    lore: str = ""
    # A speech that calls by name on a character of the cast's plays who is not on stage
    # ("Cassius, stay" from Brutus to Viola), or on the speaker itself ("Come, Iago" from
    # Iago), is drawn again (agents/addressing.py; the arena's `misaddress`; on since
    # round 11 of docs/fidelity.md).
    address_present: bool = True
    # A speech that names a person of another play, one at home in none of the scene's
    # plays and named nowhere on the page ("Marcius" at Julius Caesar, "Signior Peto" at
    # Much Ado: agents/strangers.py; the arena's `strangers`), is drawn again (on since
    # round 22 of docs/fidelity.md).
    no_strangers: bool = True
    # A speech that calls the one it speaks to by a title of the other sex ("sir" to
    # Beatrice alone, "good madam" to Benedick), one that no one on stage and none of the
    # last four speakers takes by the plays, is drawn again (agents/titles.py; the arena's
    # `titles`; on since round 23 of docs/fidelity.md).
    fit_titles: bool = True
    # In a scene of the canon's plays, a speech holding a word written with a capital that
    # no play uses and the page does not hold, a name of no play ("Sir Maximinus", "Doctor
    # Savin": agents/strangers.py `invented`), is drawn again (on since round 23 of
    # docs/fidelity.md).
    no_invented: bool = True
    # Words: best-of-n keeps a candidate with the fewest words that no play uses and the
    # page does not hold (personas/vocabulary.py: "anxiety", "burglar", "fearned"), before
    # `move_on`, `prefer_memory` and the critic choose among those. Off: on the tuning
    # casts it cost the first judge's lift (docs/fidelity.md, round 15).
    prefer_known: bool = False
    # With `prefer_known`: while every candidate found has such a word, up to this many
    # more draws (each a full draw; the only way it acts at best_of 1, as in a chat).
    known_redraws: int = 0
    # With `prefer_known`: each candidate holding such a word is drawn again in its place
    # (at most `best_of` more draws a turn), so the critic ranks up to `best_of` clean
    # candidates; without it the flawed ones, most often the longer, are only dropped.
    known_replace: bool = False
    # Words: the sampler draws only words the plays use or the page holds (a mask on
    # each step's likeliest tokens, agents/known_words.py): no "okay", no "speak'd". Off:
    # words outside the plays fell from 0.9% to 0.2% on the tuning casts, but the first
    # judge's lift fell with them (docs/fidelity.md, round 16).
    known_only: bool = False
    # Best-of-n: the critic's score of each candidate also gains this many times how much
    # more its function words, marks and word lengths sound like the plays than like the
    # shipped model's own speeches (agents/critic.py `Realness`; 0: off).
    real_weight: float = 0.0
    # Best-of-n: the critic's score of each candidate also gains this many times the cast
    # critic's log odds that it is one of the cast's real lines rather than one of the
    # shipped model's own speeches (agents/cast_critic.py; 0: off).
    cast_weight: float = 0.0
    # Words: every draw's function words are moved toward their rates in the plays: a
    # fixed logit bias of this many times log(the plays' rate / the shipped model's own),
    # at most 1.5 either way, on each function word's one-token spellings (agents/critic.py
    # `Realness.word_bias`: "what", "is", "not" down; "upon", "which", "thy" up; 0: off).
    word_rates: float = 0.0
    # Words: every draw raises the tokens that start a word of the plays with six
    # lower-case letters or more by this logit bias (`Sampling.long_words`): the plays say
    # such words one time in five, the bundled model one time in eight (0: off).
    long_words: float = 0.0
    # The transcript keeps every acceptable candidate of a turn, the kept one among them
    # (the turn's "candidates", in the order drawn; with `prefer_known`, those with
    # unknown words too), so that rules of choice can be compared offline on one staged
    # grid (benchmarks/choice_study.py).
    keep_candidates: bool = False


@dataclass(frozen=True)
class Draw:
    """What one attempt at a speech samples from."""

    prompt: str
    stops: tuple[str, ...]
    seed: int
    cues: tuple[str, ...] = ()  # memory words to boost
    floor: int = 0  # least tokens before the speech may end (`CharacterAgent._bounds`)
    limit: int = 0  # most tokens before the run-on (0: `max_tokens`)
    own: tuple[str, ...] = ()  # the speaker's own words not yet said in the scene
    # With `known_only`, the words a speech may say beyond the plays' (`page_words` of the
    # prompt); None: any word
    page: frozenset[str] | None = None


@dataclass(frozen=True)
class Utterance:
    text: str
    tokens: int
    source: str  # "model" or "fallback" (every attempt came out empty)
    attempts: int
    seconds: float
    prompt_format: str
    # With `keep_candidates`: every acceptable candidate drawn, the kept one among them
    # (empty when off, or for a fallback)
    candidates: tuple[str, ...] = ()


class PromptMaker:
    """A character's next prompt: what it saw, within the budget, in its format, with
    its voice examples, memories and lore. CharacterAgent speaks from it; training makes
    its pairs with it directly (`hidden`: lines of the persona's own never shown as
    voice samples, e.g. the scene a pair is taken from)."""

    def __init__(
        self,
        persona: PersonaLike,
        model: PromptModel,
        *,
        cast: Sequence[str],
        settings: AgentSettings | None = None,
        memory: MemorySource | None = None,
        voice: VoiceSource | None = None,
        persons: Sequence[str] = (),
        lore: Sequence[Lorebook] = (),
        hidden: frozenset[str] = frozenset(),
    ) -> None:
        self.persona = persona
        self.name = persona.name
        self.model = model
        self.cast = tuple(cast)
        self.others = tuple(c for c in self.cast if c != self.name)
        self.settings = settings or AgentSettings()
        self.memory = memory
        self.voice = voice  # real exchanges like the current talk (memory.voice)
        self.persons = tuple(persons)  # the cast's cards, for the page's list of persons
        # Lorebooks beyond the card's own: world info the card links, or --lore attached
        own = getattr(persona, "lorebook", None)
        self.lore = (*([own] if own is not None else []), *lore)
        self.hidden = hidden
        self.last_fit: Fit | None = None  # how the latest prompt fitted the context
        self.notes: list[str] = []  # what was cut to fit, once per part, not yet shown
        self._noted: set[str] = set()
        self.recalled: tuple[str, ...] = ()  # what `remember` gave the latest prompt
        self._token_counts: dict[str, int] = {}
        self._scene_shown: dict[str, tuple] = {}  # setting -> the cast's exchanges (scene)

    def visible(self, turns: Sequence[Turn]) -> list[Turn]:
        """The turns this character witnessed, newest last, within the token budget."""
        seen = [t for t in turns if self.name in t["present"] or t["speaker"] == self.name]
        return fit_history(seen, self.settings.history_tokens, self._count)

    def _count(self, text: str) -> int:
        if text not in self._token_counts:
            self._token_counts[text] = self.model.count_tokens(text)
        return self._token_counts[text]

    def room(self) -> int:
        """Tokens this character's prompts may take: the model's context less the speech."""
        s = self.settings
        return prompt_room(self.model.context_length, s.max_tokens, s.finish_tokens)

    def prompt(self, turns: Sequence[Turn], setting: str, seed: int = 0) -> tuple[str, str]:
        """(prompt text, format) for this character's next speech, within `room` tokens
        (agents/budget.py: a prompt that fits is as rendered; one that does not is cut
        part by part, and `notes` gets a line per part cut). `seed`: the turn's, which
        draws the lore entries that fire by chance."""
        fit = self.fit(turns, setting, seed)
        return fit.text, fit.format

    def fit(self, turns: Sequence[Turn], setting: str, seed: int = 0) -> Fit:
        """This character's next prompt as it fits the context, with what was cut."""
        p = self.prompt_input(turns, setting, seed)
        fmt = self.settings.prompt_format
        fit = fit_prompt(
            p,
            self.room(),
            self._count,
            lambda q: render(self.model, q, fmt),
            self.model.count_tokens,  # whole prompts: counted, not cached
        )
        self.last_fit = fit
        for trim, note in zip(fit.trims, fit.notes(self.model.context_length), strict=True):
            if trim.part not in self._noted:
                self._noted.add(trim.part)
                self.notes.append(note)
        return fit

    def take_notes(self) -> list[str]:
        """The notes on what was cut to fit the context not yet shown; each part's first."""
        notes, self.notes = self.notes, []
        return notes

    def prompt_input(self, turns: Sequence[Turn], setting: str, seed: int = 0) -> PromptInput:
        """Everything this character's next prompt is made of, before it is fitted."""
        history = tuple(self.visible(turns))
        fired = self._lore(history, seed)
        lore = lore_text(fired)
        return PromptInput(
            speaker=self.name,
            summary=f"{self.persona.card()}\n{lore}" if lore else self.persona.card(),
            samples=self._samples(),
            setting=setting,
            cast=self.cast,
            history=history,
            memories=self.remember(history, setting),
            persons=self._persons(),
            examples=self._examples(history),
            scene_examples=self._scene_examples(setting),
            lore=lore,
            lore_places=lore_places(fired),  # where SillyTavern's positions put each entry
            system_prompt=getattr(self.persona, "system_prompt", ""),  # a card's (chat only)
            post_history=getattr(self.persona, "post_history_instructions", ""),
        )

    def _samples(self) -> tuple[str, ...]:
        """The persona's own lines shown as its voice, less any `hidden` ones."""
        lines = [s for s in self.persona.sample_lines if " ".join(s.split()) not in self.hidden]
        return tuple(lines[: self.settings.n_samples])

    def _persons(self) -> tuple[str, ...]:
        """The page's list of persons: the cast's cards, and the person in a chat."""
        persons = self.persons or (self.persona.card(),)
        human = self.settings.human_card.strip()
        return (*persons, person_line(human)) if human else persons

    def _shows_examples(self) -> bool:
        return (
            self.voice is not None and get_format(self.settings.prompt_format, self.model).examples
        )

    def _real_exchanges(self, name: str, context: str) -> tuple[tuple[str, str, str], ...]:
        """`name`'s first `n_examples` real exchanges most like `context` with no word
        from outside the play."""
        assert self.voice is not None
        found = self.voice.examples(name, context, 3 * self.settings.n_examples)
        clean = [e for e in found if not out_of_world_words(" ".join(e))]
        return tuple(clean[: self.settings.n_examples])

    def _examples(self, history: Sequence[Turn]) -> tuple[tuple[str, str, str], ...]:
        """The speaker's real exchanges most like the last two speeches (page format,
        `examples_place` "turn" or "both")."""
        if self.settings.examples_place not in ("turn", "both") or not self._shows_examples():
            return ()
        context = " ".join(t["text"] for t in history[-2:])[-4000:] or self.persona.card()
        return self._real_exchanges(self.name, context)

    def _scene_examples(
        self, setting: str
    ) -> tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...]:
        """(member, exchanges) for every cast member, in cast order: their real exchanges
        most like the setting (`examples_place` "scene" or "both"). The same on every turn
        and for every speaker, so the pages share all of it."""
        if self.settings.examples_place not in ("scene", "both") or not self._shows_examples():
            return ()
        if setting in self._scene_shown:
            return self._scene_shown[setting]
        context = setting or " ".join(self.cast or (self.name,))  # the same for every speaker
        assert self.voice is not None
        shown = []
        for name in self.cast or (self.name,):
            if not self.voice.knows(name):  # the user in a chat, even one named like a character
                continue
            try:
                exchanges = self._real_exchanges(name, context)
            except DramatisError:  # a person of no play: none to show
                continue
            if exchanges:
                shown.append((name, exchanges))
        self._scene_shown[setting] = tuple(shown)
        return self._scene_shown[setting]

    def _lore(self, history: Sequence[Turn], seed: int = 0) -> list[LoreEntry]:
        """The lorebook entries the recent turns bring in: an imported card's own
        character_book, the world info it links and any attached with --lore, within
        the lore's share of the prompt (a book's own smaller token_budget wins); those
        with a probability are drawn by `seed`, and entries bring in others (recursion)."""
        if not self.lore:
            return []
        budget = int(SHARES["lore"] * self.room())
        messages = [t["text"] for t in history]
        return active_lore(self.lore, messages, budget, self._count, seed=seed)

    def remember(self, history: Sequence[Turn], setting: str) -> tuple[str, ...]:
        """What the character recalls, cued by the last two speeches it heard (see
        `keep_memories` for which lines go in; twice `memory_k` are asked for, so that
        enough remain once those the page shows are left out)."""
        if self.memory is None:
            return ()
        cue = " ".join(t["text"] for t in history[-2:]) or setting
        found = self.memory.recall(self.name, cue, 2 * self.settings.memory_k)
        self.recalled = self.keep_memories(found, history)
        return self.recalled

    def keep_memories(self, lines: Sequence[str], history: Sequence[Turn]) -> tuple[str, ...]:
        """The recalled lines that go into the prompt, in order, within `memory_tokens`: a
        remembered speech the page already shows (a visible turn) is left out, so memory
        brings what the page does not."""
        on_page = [f'"{" ".join(t["text"].split()[:8])}' for t in history]
        kept, spent = [], 0
        for line in lines:
            if any(opening in line for opening in on_page):
                continue
            spent += self._count(line) + 2
            if spent > self.settings.memory_tokens:
                break
            kept.append(line)
        return tuple(kept)


class CharacterAgent(PromptMaker):
    """A character who speaks: its prompt (PromptMaker) on a model, drawn, checked by
    the guard, best of n by the critic, at a length drawn from its real speeches."""

    model: LanguageModel

    def __init__(
        self,
        persona: PersonaLike,
        model: LanguageModel,
        *,
        cast: Sequence[str],
        settings: AgentSettings | None = None,
        adapter: str | None = None,
        memory: MemorySource | None = None,
        voice: VoiceSource | None = None,
        persons: Sequence[str] = (),
        critic: Critic | None = None,
        lore: Sequence[Lorebook] = (),
        plays: Sequence[str] = (),
    ) -> None:
        super().__init__(
            persona, model, cast=cast, settings=settings, memory=memory, voice=voice,
            persons=persons, lore=lore,
        )  # fmt: skip
        self.adapter = adapter  # this character's LoRA on `model` (None: the bare base)
        self.critic = critic  # ranks best-of-n candidates (agents/critic.py)
        self.headings = frozenset((*self.others, *play_speakers())) - {self.name}
        self._lengths: tuple[int, ...] | None = None  # real speeches' tokens (`_bounds`)
        # The plays whose characters' names the address guard knows: the cast's (the
        # staging passes them), always with the speaker's own (`misaddresses`)
        self.plays = (getattr(persona, "play", ""), *plays)
        self._forms: dict[str, frozenset[str]] | None = None
        self._canon: tuple[str, ...] | None = None  # `canon_plays`
        if self.settings.no_strangers:
            canon_homes()  # a damaged names file is one line now, not at the first draw

    def speak(
        self,
        turns: Sequence[Turn],
        setting: str,
        *,
        seed: int,
        on_text: Callable[[str], None] | None = None,
        present: Sequence[str] | None = None,
    ) -> Utterance:
        """One utterance; `on_text` gets the cleaned text so far while it streams.

        Draws until `best_of` acceptable candidates (or `retries` extra draws beyond
        them) and keeps the one the critic ranks highest; with none, a real line.
        `present`: who is on stage now, where a chat's invite and dismiss set it; by
        default the cast and everyone who has spoken (a staged scene's opening lines
        included)."""
        start = time.perf_counter()
        prompt, fmt = self.prompt(turns, setting, seed)
        cues = memory_cues(self.recalled, prompt) if self.memory is not None else ()
        stops = heading_stops(self.others) + list(get_format(fmt).stops)
        earlier = [t["text"] for t in turns]
        # who a title may be said to: those a chat says are here, else the cast; and the
        # last few speakers (agents/titles.py `hearers`)
        spoken = [t["speaker"] for t in turns]
        titled = hearers(self.cast if present is None else present, spoken)
        if present is None:
            present = (*self.cast, *spoken)
        here = frozenset((*present, self.name))
        want = max(1, self.settings.best_of)
        shown: list[str] = []  # what `on_text` was last given, so that it ends on the speech

        def show(text: str) -> None:
            shown[:] = [text]
            if on_text is not None:
                on_text(text)

        stream_to = show if want == 1 and on_text is not None else None
        floor, limit = self._bounds(seed)  # one length for every draw of this turn
        own = self.unsaid_own_words(turns)
        known_only = self.settings.known_only and self._can("known_only")
        page = page_words(prompt) if known_only or self.settings.prefer_known else frozenset()
        flaws = self._unknown_counter(page) if self.settings.prefer_known else None
        accepted: list[str] = []  # with `keep_candidates`: every acceptable draw, in order
        # what the scene has said: the prompt, and the turns it may have left out
        everything = "\n".join((prompt, *earlier))
        known = page_words(plain(everything)) if self.settings.no_invented else frozenset()

        def accept(candidate: tuple[str, int]) -> bool:
            ok = self._acceptable(candidate[0], earlier, setting, here, everything, known, titled)
            if ok and self.settings.keep_candidates:
                accepted.append(candidate[0])
            return ok

        kept, attempts = best_of(
            lambda attempt: self._draw(
                Draw(
                    prompt,
                    tuple(stops),
                    seed + SEED_STEP * attempt,
                    tuple(cues),
                    floor,
                    limit,
                    own=own,
                    page=page if known_only else None,
                ),
                stream_to,
            ),
            accept,
            lambda found: self._choose(found, cues, earlier),
            want=want,
            extra=self.settings.retries,
            flaws=flaws,
            redraws=self.settings.known_redraws if flaws else 0,
            replace=want if flaws and self.settings.known_replace else 0,
        )
        elapsed = time.perf_counter() - start
        if kept is None:
            text = self._fallback(turns)
            if on_text is not None:
                on_text(text)
            return Utterance(text, 0, "fallback", attempts, elapsed, fmt)
        text, tokens = kept
        if on_text is not None and shown != [text]:  # best-of-n, or a cut speech's final form
            on_text(text)
        seconds = time.perf_counter() - start
        return Utterance(text, tokens, "model", attempts, seconds, fmt, tuple(accepted))

    @staticmethod
    def _unknown_counter(page: frozenset[str]) -> Callable[[tuple[str, int]], int]:
        """How many of a candidate's words no play uses and the `page` (`page_words`)
        does not hold (so a name or word of the setting, the transcript or a lorebook is
        the scene's own)."""
        return lambda candidate: len(unknown(candidate[0], page))

    def _bounds(self, seed: int) -> tuple[int, int]:
        """This turn's (least length, token limit): `length_share` and `length_ceiling`
        of one of the character's real speeches, drawn by the turn's seed
        (agents/length.py). The floor is `min_tokens` when that is more, and at most 3/4
        of `max_tokens`, so that a sentence can still end; the limit is at most
        `max_tokens`, and always past the floor."""
        s = self.settings
        if self._lengths is None:
            wanted = s.length_share > 0 or s.length_ceiling > 0
            play = getattr(self.persona, "play", "") if wanted else ""
            texts = real_speeches(play, self.name) if play else ()
            self._lengths = tuple(self._count(" ".join(t.split())) for t in texts)
        cap = s.max_tokens * 3 // 4
        drawn, limit = speech_bounds(
            self._lengths, random.Random(seed), s.length_share, s.length_ceiling, cap, s.max_tokens
        )
        floor = min(max(s.min_tokens, drawn), s.max_tokens)
        return floor, max(limit, min(floor + 8, s.max_tokens))

    def unsaid_own_words(self, turns: Sequence[Turn]) -> tuple[str, ...]:
        """The character's own words (`own_words`) that no turn of the scene has said."""
        if self.settings.own_words <= 0 or self.voice is None or not self._can("boosted"):
            return ()
        said = " ".join(t["text"] for t in turns).lower()
        return tuple(
            w
            for w in self.voice.own_words(self.name)
            if not re.search(rf"\b{re.escape(w)}\b", said)
        )

    def _acceptable(
        self,
        text: str,
        earlier: Sequence[str],
        setting: str = "",
        present: frozenset[str] = frozenset(),
        page: str = "",
        known: Collection[str] | None = None,
        titled: frozenset[str] | None = None,
    ) -> bool:
        """Not empty, no repeat of an earlier turn, no narration, no card or setting
        recited; with `address_present`, no name called on but those `present`, and not
        the speaker's own; with `no_strangers`, no person of another play that neither
        the `page` (the prompt and every turn of the scene) nor the cast and those
        `present` name; with `fit_titles`, no title that none of those `titled` (by
        default those `present`) takes; with `no_invented`, in a scene of the canon's
        plays, no name of no play that the page does not hold (`known`: the page's words,
        `page_words` of its `plain` text, when the caller has them)."""
        if not text or echoes(text, earlier) or narrates(text, self.cast):
            return False
        if self.settings.near_repeats and (
            rewords(text, earlier) or retells(text, earlier) or holds(text, earlier)
        ):
            return False
        if self.settings.address_present and self.misaddresses(
            text, present or frozenset(self.cast)
        ):
            return False
        if self.settings.no_strangers and self.strangers(
            text, "\n".join((page or setting, *present, *self.cast))
        ):
            return False
        if self.settings.fit_titles and self.wrong_titles(
            text, titled or present or frozenset(self.cast)
        ):
            return False
        if (
            self.settings.no_invented
            and self.canon_plays()
            and invented(text, page_words(plain(page or setting)) if known is None else known)
        ):
            return False
        sources = (*self.persons, self.persona.card(), setting)
        return not any(copies(text, source) for source in sources if source)

    def misaddresses(self, text: str, present: frozenset[str]) -> list[str]:
        """The names `text` calls on that are not `present`, or the speaker's own, by the
        forms of the characters of `plays` ([] for a card of no play in a cast of none)."""
        if self._forms is None:
            self._forms = plays_forms(self.canon_plays())
        absent, own = misaddressed(text, self._forms, present, self.name)
        return absent + own

    def strangers(self, text: str, page: str = "") -> list[str]:
        """The people of other plays that `text` names and `page` does not
        (agents/strangers.py; none for a card of no play in a cast of none)."""
        return named_strangers(text, self.canon_plays(), page)

    def wrong_titles(self, text: str, present: frozenset[str]) -> list[str]:
        """The titles `text` says that none of those `present` but the speaker takes by
        the canon's plays of the scene (agents/titles.py; none where no play knows them)."""
        return wrong_titles(text, self.name, present, self.canon_plays())

    def canon_plays(self) -> tuple[str, ...]:
        """The plays of `plays` that are the canon's, each once (none for a card of no
        play in a cast of none), read once."""
        if self._canon is None:
            known = set(list_plays())
            self._canon = tuple(k for k in dict.fromkeys(self.plays) if k in known)
        return self._canon

    def _sampling(self, draw: Draw, run_on: int = 0) -> Sampling:
        """The sampling options of a draw; with `run_on`, of its run-on to a sentence end
        (that many tokens, no floor)."""
        return Sampling(
            max_tokens=run_on or draw.limit or self.settings.max_tokens,
            min_tokens=0 if run_on else draw.floor,
            temperature=self.settings.temperature,
            top_p=self.settings.top_p,
            **(
                {"top_k": self.settings.top_k, "min_p": self.settings.min_p}
                if self._can("tail_cut")
                else {}
            ),
            repeat_penalty=self.settings.repeat_penalty,
            presence_penalty=self.settings.presence_penalty,
            seed=draw.seed + run_on,  # a new seed per retry, the same sequence on a rerun
            stop=draw.stops,
            adapter=self.adapter,
            banned=(*OUT_OF_WORLD, *NUMERALS)
            if self._can("banned") and self.settings.ban_out_of_world
            else (),
            boosted=draw.cues if self._can("boosted") else (),
            boost=self.settings.memory_boost if draw.cues and self._can("boosted") else 0.0,
            own_words=draw.own,  # empty unless the model takes boosts (`unsaid_own_words`)
            own_boost=self.settings.own_words if draw.own else 0.0,
            spare_commas=self.settings.spare_commas and self._can("spare_commas"),
            spared_words=SPARED_WORDS
            if self.settings.spare_words and self._can("spared_words")
            else (),
            continues=bool(run_on),
            known_only=draw.page is not None,
            page_words=draw.page or frozenset(),
            tilted=bundled_realness().word_bias(self.settings.word_rates)
            if self.settings.word_rates and self._can("tilted")
            else (),
            long_words=self.settings.long_words if self._can("long_words") else 0.0,
        )

    def _can(self, feature: str) -> bool:
        """Whether the model honours an optional sampling feature the defaults ask for
        (the word ban and memory boosts: a server backend has neither)."""
        return feature in self.model.supports

    def _draw(self, draw: Draw, on_text: Callable[[str], None] | None) -> tuple[str, int]:
        """One completion, cleaned; it ends early at the heading of any speaker of the
        plays. Cut by the token limit inside a sentence, it runs on to the sentence's end
        (at most `finish_tokens` more), then `_finish` trims what is still unfinished."""
        past = draw.floor if self.settings.end_past_floor else None
        raw, tokens, ended = self._stream(draw.prompt, self._sampling(draw), on_text, past=past)
        cut_off = not ended and tokens >= (draw.limit or self.settings.max_tokens)
        if cut_off and self.settings.finish_tokens > 0 and not self._ends(raw):
            more = self._sampling(draw, run_on=self.settings.finish_tokens)
            tail, extra, _ = self._stream(draw.prompt + raw, more, on_text, before=raw)
            raw, tokens = raw + tail, tokens + extra
        return self._finish(raw, cut_off=cut_off), tokens

    def _ends(self, raw: str) -> bool:
        """Whether the cleaned text of `raw` ends a sentence."""
        return ends_sentence(clean_utterance(raw, self.name, self.headings))

    def _stream(
        self,
        prompt: str,
        sampling: Sampling,
        on_text: Callable[[str], None] | None,
        before: str | None = None,
        past: int | None = None,
    ) -> tuple[str, int, bool]:
        """(text, tokens, ended early) of one completion of `prompt`, stopped at a heading.
        With `before` (a cut speech so far) it runs that speech on and also stops at the
        first sentence end; with `past`, it stops at the first sentence end after that
        many tokens."""
        said, raw, tokens = before or "", "", 0
        pieces = self.model.stream(prompt, sampling)
        for piece in pieces:
            raw += piece
            tokens += 1
            whole = said + raw
            cut = len(whole)
            if "\n" in piece or ":" in piece:
                cut = heading_cut(whole, self.name, self.headings)
            done = cut < len(whole)
            ending = before is not None or (past is not None and tokens >= past)
            if not done and ending and any(c in piece for c in ".!?"):
                done = self._ends(whole)
            if done:
                close = getattr(pieces, "close", None)
                if close is not None:
                    close()
                return whole[len(said) : cut], tokens, True
            if on_text is not None:
                on_text(clean_utterance(whole, self.name, self.headings))
        return raw, tokens, False

    def _choose(
        self, found: Sequence[tuple[str, int]], cues: Sequence[str], earlier: Sequence[str] = ()
    ) -> int:
        """Which candidate to keep: the one the critic ranks highest (the first when there
        is no critic); with `move_on`, among those that do not dwell on the last speeches
        when any does not; with `prefer_memory`, among those that take up a memory cue
        when any does."""
        if len(found) == 1:
            return 0
        texts = [text for text, _ in found]
        scores = self.critic.rank(self.name, texts) if self.critic else [0.0] * len(found)
        uses = [self.settings.prefer_memory and takes_up(t, cues) for t in texts]
        moves = [not (self.settings.move_on and dwells(t, earlier)) for t in texts]
        return max(range(len(found)), key=lambda i: (moves[i], uses[i], scores[i], -i))

    def _finish(self, raw: str, *, cut_off: bool) -> str:
        """The final text of a completion: cleaned, at most `max_lines`, and ending at the
        end of a sentence, never inside a clause. A speech cut (by the token limit or
        `max_lines`) loses its unfinished tail, or all of it when no sentence ends in it
        (the draw is retried); one the model ended itself on a clause mark ("Good my
        lord,") keeps its whole sentences, or with none ends there with a full stop."""
        lines = clean_utterance(raw, self.name, self.headings).splitlines()
        text = "\n".join(lines[: self.settings.max_lines])
        if ends_sentence(text):
            return text
        whole = trim_to_sentence(text)
        if whole or cut_off or len(lines) > self.settings.max_lines:
            return whole
        return text.rstrip(" ,;:-\u2014") + "." if text else text

    def _fallback(self, turns: Sequence[Turn]) -> str:
        """A line from the character's own play, marked as such in the transcript."""
        said = {t["text"] for t in turns}
        lines = [s for s in self.persona.sample_lines if s not in said]
        return (lines or self.persona.sample_lines or ["..."])[0]
