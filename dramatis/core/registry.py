"""Registries asked in order with a catch-all last (backends, memory stores)."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


def add_before_last(registry: dict[str, T], key: str, value: T, last: str, what: str) -> T:
    """Put `value` under `key`, ahead of the catch-all `last` if it is there; a key
    already taken is refused (`what` names the kind of thing in the error).

    r = {"file": f}; add_before_last(r, "crier", c, "file", "backend") -> list(r) == ["crier", "file"]
    """
    if key in registry:
        raise ValueError(f"a {what} of kind {key!r} is registered already")
    catch_all = registry.pop(last, None)
    registry[key] = value
    if catch_all is not None:
        registry[last] = catch_all
    return value
