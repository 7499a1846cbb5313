"""The metric registry: every metric the arena scores, in order, with its keys.

Scoring, the CLI table, the report (table and PNG) and the ratings read the keys each
metric declares (`Metric.keys`: direction, format, where shown, how rated); nothing
keeps a second list of names. A metric from outside the package joins with `register`:

    register(MyMetric)   # MyMetric.name, MyMetric.keys, MyMetric().score(run, ctx)
"""

from __future__ import annotations

from collections.abc import Callable

from dramatis.arena.metric import Key, Metric

MetricFactory = Callable[[], Metric]
_added: dict[str, MetricFactory] = {}


def builtin() -> list[MetricFactory]:
    """The shipped metrics, in table order (imported on first use: some load sklearn)."""
    from dramatis.arena.address import Misaddress
    from dramatis.arena.copying import Copying
    from dramatis.arena.diction import Diction
    from dramatis.arena.discriminator import Discriminator
    from dramatis.arena.echo import PromptEcho
    from dramatis.arena.group_judge import GroupAttribution
    from dramatis.arena.horizon import KnowledgeLeak
    from dramatis.arena.impersonation import Impersonation
    from dramatis.arena.in_world import InWorld
    from dramatis.arena.later_spans import LaterSpans
    from dramatis.arena.modern_words import ModernWords
    from dramatis.arena.next_speaker import NextSpeaker
    from dramatis.arena.overlap import ScriptOverlap
    from dramatis.arena.repetition import Repetition
    from dramatis.arena.speaker_fidelity import Attribution
    from dramatis.arena.speech_length import SpeechLength
    from dramatis.arena.strangers import Strangers
    from dramatis.arena.titles import Titles

    return [
        InWorld,
        PromptEcho,
        Repetition,
        Copying,
        Impersonation,
        KnowledgeLeak,
        Attribution,
        ScriptOverlap,
        NextSpeaker,
        Diction,
        ModernWords,
        SpeechLength,
        Discriminator,
        GroupAttribution,
        LaterSpans,
        Misaddress,
        Strangers,
        Titles,
    ]


def register(make: MetricFactory) -> MetricFactory:
    """Add a metric after the shipped ones (a class or any factory); returns it, so it
    can decorate a class. Its name must be new."""
    name = make().name
    if name in _added or name in {m().name for m in builtin()}:
        raise ValueError(f"a metric named {name!r} is registered already")
    _added[name] = make
    return make


def unregister(name: str) -> None:
    """Remove a metric added with `register` (a no-op for other names)."""
    _added.pop(name, None)


def metrics() -> list[Metric]:
    """A fresh instance of every registered metric, shipped ones first."""
    return [make() for make in [*builtin(), *_added.values()]]


def keys() -> list[Key]:
    """Every registered metric's keys, in table order."""
    return [key for metric in metrics() for key in metric.keys]


def shown(where: str) -> list[Key]:
    """The keys shown in one place: "cli" (arena score's table) or "table" (the report).

    shown("cli")[0].name -> "in_world"
    """
    return [k for k in keys() if getattr(k, where)]


def rated(kind: str) -> list[str]:
    """Names of the keys that enter the ratings' fidelity as `kind` ("gain"/"penalty")."""
    return [k.name for k in keys() if k.rating == kind]
