"""Imports point down only:
app shell > arena > staging > training > agents, memory > personas > core.

Every `dramatis.*` import in a room's source, at module level or inside a function,
must name a room that room may use. A room that needs something from above it has
a misplaced responsibility: move the shared piece down (into core, or into agents).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# room -> (source folder, rooms it may import besides itself)
LAYERS: dict[str, tuple[Path, set[str]]] = {
    "core": (ROOT / "dramatis" / "core", set()),
    "personas": (ROOT / "personas", {"core"}),
    "agents": (ROOT / "agents", {"core", "personas"}),
    "memory": (ROOT / "memory", {"core", "personas"}),
    "training": (ROOT / "training", {"core", "personas", "agents", "memory"}),
    # Composition: personas + model + adapters + memory -> a runnable scene. Shared by the
    # CLI, the chat app, the server and the arena's suites, so it sits below the arena.
    "staging": (
        ROOT / "dramatis" / "staging.py",
        {"core", "personas", "agents", "memory", "training"},
    ),
    "arena": (ROOT / "arena", {"core", "personas", "agents", "memory", "training", "staging"}),
}


def imported_rooms(source: str) -> set[str]:
    """Rooms named by `dramatis.*` imports.

    imported_rooms("from dramatis.agents.turn import Turn") -> {"agents"}
    imported_rooms("import dramatis.cli") -> {"shell"}
    """
    rooms: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            if node.module == "dramatis":
                names = [f"dramatis.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "dramatis" and len(parts) > 1:
                rooms.add(parts[1] if parts[1] in LAYERS else "shell")
    return rooms


def test_imported_rooms_sees_every_form() -> None:
    src = "import dramatis.cli\nfrom dramatis import transcript\ndef f():\n    from dramatis.arena import x\n"
    assert imported_rooms(src) == {"shell", "arena"}
    assert imported_rooms("from dramatis.staging import build_scene") == {"staging"}


@pytest.mark.parametrize("room", list(LAYERS))
def test_room_imports_point_down(room: str) -> None:
    folder, allowed = LAYERS[room]
    wrong = []
    for path in [folder] if folder.is_file() else sorted(folder.rglob("*.py")):
        for used in imported_rooms(path.read_text(encoding="utf-8")) - allowed - {room}:
            wrong.append(f"{path.relative_to(ROOT)} imports dramatis.{used}")
    assert not wrong, "upward imports:\n" + "\n".join(wrong)
