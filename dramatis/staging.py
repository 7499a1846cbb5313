"""Wiring: settings + personas + model -> a runnable scene, new or resumed."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dramatis.agents.catalog import open_model, parse_model, resolve_model
from dramatis.agents.character import CharacterAgent
from dramatis.agents.critic import StyleCritic, bundled_realness
from dramatis.agents.model import LanguageModel
from dramatis.agents.policies import make_policy
from dramatis.agents.recall import ToolLines
from dramatis.agents.scene import Partial, SceneGraph
from dramatis.agents.scene_store import SceneSpec, SceneStore
from dramatis.agents.turn import Turn, make_turn
from dramatis.core.errors import DramatisError
from dramatis.core.keys import slug
from dramatis.core.settings import Settings
from dramatis.memory.clock import horizon_of
from dramatis.memory.voice import PlayVoices, at_horizon
from dramatis.personas import Persona, find_persona, load_play
from dramatis.personas.world_info import LoreStore, books_for, lore_notes

OPENING_SPEECHES = 4  # lines from the play that seed a `--scene` run


def parse_cast(text: str) -> list[str]:
    """Cast names from a comma list, deduplicated, order kept.

    parse_cast("Hamlet, Ophelia,hamlet") -> ["Hamlet", "Ophelia"]
    """
    names: list[str] = []
    for raw in text.split(","):
        name = " ".join(raw.split())
        if name and name.lower() not in {n.lower() for n in names}:
            names.append(name)
    if not names:
        raise DramatisError("--cast is empty: give names like --cast 'Hamlet,Ophelia'")
    return names


def cast_personas(names: Sequence[str], home: Path | None = None) -> list[Persona]:
    """The persona for each "Name" or "play:Name" (imported cards: those in the state
    folder `home`, Settings.home; None: the default one); a DramatisError if two share a
    name (agents, turns and memories are keyed by the name a character speaks under)."""
    personas = [find_persona(name, home=home) for name in names]
    seen: dict[str, Persona] = {}
    for persona in personas:
        if (other := seen.get(persona.name)) is not None:
            raise DramatisError(
                f"--cast names two characters called {persona.name} ({other.play} and "
                f"{persona.play}): keep one of them"
            )
        seen[persona.name] = persona
    return personas


def scene_spec(
    personas: Sequence[Persona], *, thread_id: str | None = None, **fields: Any
) -> SceneSpec:
    """The one maker of a new scene's spec: stage, chat, the prompt command and the arena
    all come here. The cast is resolved once, by the caller's `cast_personas`, and stored
    as roles (each name with its play), so the critic, the baselines, invite and resume
    never resolve a bare name again; the model is stored as `parse_model` names it.

    scene_spec([hamlet, ophelia], setting="A hall.", model="m.gguf").roles()
    -> ["hamlet:Hamlet", "hamlet:Ophelia"]  (and .model: the file's absolute path)
    """
    names = [p.name for p in personas]
    fields["model"] = parse_model(fields.get("model")).name
    return SceneSpec(
        thread_id=thread_id or new_thread_id(names),
        cast=names,
        plays={p.name: p.play for p in personas},
        **fields,
    )


def with_member(spec: SceneSpec, persona: Persona) -> SceneSpec:
    """`spec` with one more cast member, stored with its play (a chat's invite)."""
    return spec.model_copy(
        update={
            "cast": [*spec.cast, persona.name],
            "plays": {**spec.plays, persona.name: persona.play},
        }
    )


def new_thread_id(cast: Sequence[str]) -> str:
    """A fresh id naming the cast: ["Hamlet", "Lady Macbeth"] -> "hamlet-ladymacbeth-1a2b3c4d"."""
    return f"{'-'.join(slug(n, '') for n in cast)[:48]}-{uuid.uuid4().hex[:8]}"


def opening_from_play(scene_ref: str) -> tuple[str, list[Turn]]:
    """(setting, opening turns) for "hamlet:3.1"."""
    if ":" not in scene_ref:
        raise DramatisError(f"--scene {scene_ref!r}: write PLAY:ACT.SCENE, e.g. hamlet:3.1")
    play_key, scene_id = scene_ref.split(":", 1)
    play = load_play(play_key)
    scene = play.scene(scene_id)
    turns = [
        make_turn(i, s.speaker, s.text, source="play", present=list(s.on_stage))
        for i, s in enumerate(scene.speeches[:OPENING_SPEECHES])
    ]
    return play.setting_line(scene), turns


def default_setting(cast: Sequence[str]) -> str:
    """default_setting(["Hamlet", "Ophelia"]) -> "A hall in a castle, late at night. Hamlet,
    Ophelia meet." """
    return f"A hall in a castle, late at night. {', '.join(cast)} meet."


def cast_setting(personas: Sequence[Persona], present: Sequence[str], user: str = "User") -> str:
    """The setting of a scene given none and opened from no play scene (stage, chat and
    the prompt command all ask here): the first imported card's own scenario, with
    {{char}} and {{user}} filled as in its other fields ({{user}}: `user`, who chats),
    else `default_setting(present)`.

    cast_setting([yorick], ["Yorick", "Anna"], "Anna")  (scenario: "... {{user}} has just dug {{char}} up.")
    -> "A churchyard near Elsinore at dusk; Anna has just dug Yorick up."
    """
    from dramatis.personas.cards import card_persona

    for persona in personas:
        if persona.card_source is not None and persona.scenario:
            return card_persona(persona.card_source, user).scenario
    return default_setting(present)


@dataclass
class Staged:
    spec: SceneSpec
    scene: SceneGraph
    model: LanguageModel
    notes: list[str] = field(default_factory=list)  # e.g. which adapter each character uses
    memory: Any = None  # the scene's dramatis.memory SceneMemory, when spec.memory


def load_model(spec: SceneSpec, settings: Settings) -> LanguageModel:
    """The model the spec names (llama.cpp here, or an OpenAI-compatible server),
    seeded with the scene's seed."""
    return open_model(spec.model, settings, seed=spec.seed)


def default_voice_scale(model: LanguageModel, settings: Settings) -> float:
    """The stage voice's scale for a scene that did not choose one: 1 on a local llama.cpp
    model with a voice for its base (shipped or trained here), else 0."""
    from dramatis.agents.llama_backend import LlamaCppModel
    from dramatis.training.serving import voice_available

    path = getattr(model, "path", None)
    if not isinstance(model, LlamaCppModel) or path is None:
        return 0.0
    return 1.0 if voice_available(settings, Path(path)) else 0.0


def build_scene(
    spec: SceneSpec,
    store: SceneStore,
    settings: Settings,
    model: LanguageModel | None = None,
) -> Staged:
    """Agents for every cast member over one shared model, in a checkpointed graph.

    Cast members resolve with their stored plays (`spec.roles()`). With `spec.adapters`
    each character speaks with its active LoRA adapter (the dramatis.training registry),
    loaded once on the shared model; characters without one use the base."""
    personas = cast_personas(spec.roles(), settings.home)
    store.claim(spec.thread_id)  # one writer per scene; the database checked first
    model = model or load_model(spec, settings)
    check_format(spec, model)
    chosen: dict[str, str | None] = {}
    notes: list[str] = []
    model_spec = parse_model(spec.model)
    served = model_spec.served
    if spec.adapters and not model_spec.takes_adapters:
        raise DramatisError(
            f"--adapters: model {spec.model} takes no LoRA adapters; stage with a llama.cpp "
            "model or a server"
        )
    if spec.stage_voice is None:
        spec.stage_voice = default_voice_scale(model, settings)
    if spec.stage_voice and served:
        raise DramatisError("--stage-voice stacks adapters on a local llama.cpp model only")
    if (spec.adapters or spec.stage_voice) and not served:
        model_path = Path(
            getattr(model, "path", None) or resolve_model(spec.model, settings.cache_dir)
        )
    if spec.adapters and served:
        from dramatis.training.serving import name_served_adapters

        chosen, notes = name_served_adapters(model, personas, settings)
    elif spec.adapters:
        from dramatis.training.serving import mount_adapters

        chosen, notes = mount_adapters(model, personas, settings, model_path, spec.stage_voice)
    if spec.stage_voice:
        from dramatis.training.serving import mount_stage_voice

        notes.append(mount_stage_voice(model, settings, model_path, spec.stage_voice))
    memory = scene_memory(spec, personas, settings) if spec.memory else None
    # With memory, the graph's memory step calls the tools; agents read what it returned.
    recalled = ToolLines() if memory is not None else None
    notes += lore_notes(personas, LoreStore(settings.home))
    agents = scene_agents(spec, personas, model, settings, chosen, recalled)
    scene = SceneGraph(
        agents,
        make_policy(spec.policy, {p.name: p.talkativeness for p in personas}),
        setting=spec.setting,
        seed=spec.seed,
        checkpointer=store.checkpointer,
        human=spec.human,
        observers=(memory,) if memory else (),
        tools=memory.tools_for if memory is not None else None,
        recalled=recalled,
    )
    if memory is not None:  # a resumed scene's turns, or the play's opening lines
        said = scene.turns(spec.thread_id)
        memory.sync(said or (opening_from_play(spec.source_scene)[1] if spec.source_scene else []))
    return Staged(spec, scene, model, notes, memory)


def scene_agents(
    spec: SceneSpec,
    personas: Sequence[Persona],
    model: LanguageModel,
    settings: Settings,
    adapters: dict[str, str | None] | None = None,
    memory: ToolLines | None = None,
) -> dict[str, CharacterAgent]:
    """An agent for each cast member as the scene's prompts need them: one story horizon
    per play for every prompt part (memory/clock.py horizon_of), real exchanges from
    before it, the cast's cards, the critic, and world info. `build_scene` and `dramatis
    prompt` both build them here, so the prompt shown is the prompt the scene gives."""
    names = [p.name for p in personas] + ([spec.human] if spec.human else [])
    horizons = {p.play: horizon_of(spec.source_scene, p.play, spec.horizon) for p in personas}
    personas = [at_horizon(p, horizons[p.play]) for p in personas]
    voice = PlayVoices({p.name: p.play for p in personas}, horizons=horizons)
    cards = [p.card() for p in personas]
    weight = spec.agent.real_weight
    # Read here, so that a broken table is a one-line error now, not at the first draw.
    realness = bundled_realness() if weight or spec.agent.word_rates else None
    critic = (
        StyleCritic.for_personas(
            personas,
            realness=realness if weight else None,
            weight=weight,
            cast_weight=spec.agent.cast_weight,
        )
        if spec.agent.best_of > 1
        else None
    )
    lore = LoreStore(settings.home)  # world info: cards' links and --lore
    return {
        p.name: CharacterAgent(
            p,
            model,
            cast=names,
            settings=spec.agent,
            adapter=(adapters or {}).get(p.name),
            memory=memory,
            voice=voice,
            persons=cards,
            critic=critic,
            lore=books_for(p, spec.agent.lore, lore),
            plays=[getattr(q, "play", "") for q in personas],
        )
        for p in personas
    }


def scene_memory(spec: SceneSpec, personas: list, settings: Settings) -> Any:
    """The scene's memory (dramatis.memory): the same store and graph on every resume."""
    from dramatis.memory.attach import open_scene_memory
    from dramatis.memory.settings import MemorySettings

    cast = [(p.name, p.play) for p in personas]
    return open_scene_memory(
        MemorySettings.of(settings), spec.thread_id, cast, spec.source_scene, horizon=spec.horizon
    )


def card_opening(
    personas: list, group: bool, choice: int | None = None, present: list[str] | None = None
) -> list[Turn]:
    """The greeting of the first imported card character as the scene's opening turn
    (a group-only greeting when there is one and the scene is a group; `choice`: the
    first message or an alternate greeting, `--greeting N`). `present`: who hears it
    (default: the cast)."""
    from dramatis.personas.cards import greeting

    names = present or [p.name for p in personas]
    for persona in personas:
        if choice is not None and not (persona.first_mes or persona.alternate_greetings):
            continue  # a play character: no greetings to choose from
        if text := greeting(persona, group=group, choice=choice):
            return [make_turn(0, persona.name, text, source="card", present=names)]
    if choice is not None:
        raise DramatisError(f"--greeting {choice}: no one in the cast has a card with greetings")
    return []


def check_format(spec: SceneSpec, model: LanguageModel) -> None:
    """Refuse a format the model cannot take (`--format chat` on a model without a chat
    template) before anything is said, and before a new scene is saved."""
    from dramatis.agents.formats import check_format as check

    check(spec.agent.prompt_format, model, spec.model)


# What backends say when a prompt does not fit the model's context: llama.cpp's
# "Requested tokens (N) exceed context window of M", an OpenAI-compatible server's
# error code, and numpy's complaint when llama.cpp's context is too small to take a batch.
CONTEXT_SIGNS = ("exceed context window", "context_length_exceeded", "could not broadcast")


def context_overflow(err: BaseException) -> bool:
    """Whether `err` is a backend saying the prompt did not fit its context.

    context_overflow(ValueError("Requested tokens (90) exceed context window of 64")) -> True
    """
    return not isinstance(err, DramatisError) and any(s in str(err) for s in CONTEXT_SIGNS)


def overflow_error(spec: SceneSpec, err: BaseException, saved: int) -> DramatisError:
    """The one line for a turn whose prompt did not fit the model's context."""
    kept = (
        f"the {saved} turns said so far are saved (dramatis resume {spec.thread_id})"
        if saved
        else "nothing was saved"
    )
    detail = " ".join(str(err).split())[:120]
    return DramatisError(
        f"the prompt does not fit model {spec.model}'s context ({detail}): {kept}; shorten "
        "--setting or the card's text, or raise DRAMATIS_N_CTX"
    )


def run_turns(
    staged: Staged,
    turns: int,
    opening: list[Turn] | None = None,
    on_first_turn: Callable[[], None] | None = None,
) -> Iterator[Partial | Turn]:
    """`staged.scene.run`, with `on_first_turn` called once the first new turn is in the
    checkpoint (stage saves a new scene's spec there, so no scene is saved that never
    spoke), and a prompt too long for the context turned into one line."""
    scene, thread_id = staged.scene, staged.spec.thread_id
    try:
        for event in scene.run(thread_id, turns, opening):
            if on_first_turn is not None and not isinstance(event, Partial):
                on_first_turn()
                on_first_turn = None
            yield event
    except Exception as err:
        if not context_overflow(err):
            raise
        raise overflow_error(staged.spec, err, len(scene.turns(thread_id))) from None


def resume_opening(spec: SceneSpec, scene: SceneGraph, settings: Settings) -> list[Turn]:
    """The opening a scene saved with no turns starts with on resume (the play's first
    speeches or a card's greeting, as `stage` would have), so an empty scene resumes
    like a new one; none for a scene that has turns or a cut-off step."""
    snapshot = scene.graph.get_state(scene.config(spec.thread_id))
    if snapshot.values.get("turns") or snapshot.next or snapshot.tasks:
        return []
    if spec.source_scene:
        return opening_from_play(spec.source_scene)[1]
    personas = cast_personas(spec.roles(), settings.home)
    return card_opening(personas, len(personas) > 1) if not spec.human else []
