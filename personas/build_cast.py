"""Regenerate the shipped default cast from the play texts.

Run: python -m dramatis.personas.build_cast [--check] [OUTPUT]
"""

from __future__ import annotations

import sys
from pathlib import Path

from dramatis.personas.cast import DEFAULT_CAST, DEFAULT_MEMBERS, Cast
from dramatis.personas.corpus import load_play
from dramatis.personas.persona import build_persona

__all__ = ["DEFAULT_MEMBERS", "build_default_cast", "main"]


def build_default_cast() -> Cast:
    """The default cast, built now from the texts."""
    personas = {}
    for play_key, names in DEFAULT_MEMBERS.items():
        play = load_play(play_key)
        for name in names:
            persona = build_persona(play, name)
            personas[persona.name] = persona
    return Cast(personas)


def main(argv: list[str] | None = None) -> int:
    """Write the cast file; with --check, only report whether it is up to date."""
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    paths = [a for a in args if a != "--check"]
    out = Path(paths[0]) if paths else DEFAULT_CAST
    text = build_default_cast().to_json()
    if check:
        current = out.read_text(encoding="utf-8") if out.exists() else ""
        print(f"{out}: {'up to date' if current == text else 'stale; regenerate it'}")
        return 0 if current == text else 1
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
