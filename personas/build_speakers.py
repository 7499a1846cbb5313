"""Regenerate the shipped speaker list the guard ends a turn at (personas/data/speakers.json).

Run: python -m dramatis.personas.build_speakers [--check]

The list holds every readable name of the plays' speakers, their aliases from the persons
lists and the identity table, and each heading as printed without its period, so a reply
that runs on into "KING RICHARD." or "Richard III:" is cut there.
"""

from __future__ import annotations

import json
import sys

from dramatis.personas.persona import SPEAKERS, collect_speakers


def main(argv: list[str] | None = None) -> int:
    """Write the list; with --check, only report whether the shipped one is up to date."""
    args = list(sys.argv[1:] if argv is None else argv)
    text = json.dumps(collect_speakers(), indent=0) + "\n"
    if "--check" in args:
        current = SPEAKERS.read_text(encoding="utf-8") if SPEAKERS.is_file() else ""
        print(f"{SPEAKERS}: {'up to date' if current == text else 'stale; regenerate it'}")
        return 0 if current == text else 1
    SPEAKERS.write_text(text, encoding="utf-8")
    print(f"wrote {SPEAKERS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
