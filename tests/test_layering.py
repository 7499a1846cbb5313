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


def module_name(path: Path) -> str:
    """The import name of a source file: ROOT/agents/scene.py -> "dramatis.agents.scene"."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    parts = parts if parts[0] == "dramatis" else ["dramatis", *parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_imports(source: str, known: set[str]) -> set[str]:
    """The modules of `known` a source imports, at module level or inside a function
    ("from dramatis.personas import edition" imports the submodule, not the package)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = {f"{node.module}.{a.name}" for a in node.names} & known
            found |= subs or ({node.module} & known)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names} & known
    return found


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Groups of modules that import each other, directly or round a circle (Tarjan).

    circles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) -> [["a", "b"]]
    """
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        order[v] = low[v] = len(order)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in order:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], order[w])
        if low[v] == order[v]:
            group = []
            while (w := stack.pop()) != v:
                group.append(w)
            if group:
                found.append(sorted([*group, v]))

    for v in sorted(graph):
        if v not in order:
            visit(v)
    return found


def test_circles_finds_a_loop_and_nothing_else():
    assert circles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert circles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_no_module_imports_itself_round_a_circle():
    files = [p for room in ("dramatis", *LAYERS) if (ROOT / room).is_dir()
             for p in sorted((ROOT / room).rglob("*.py"))]  # fmt: skip
    names = {module_name(p): p for p in files}
    graph = {
        name: module_imports(path.read_text(encoding="utf-8"), set(names)) - {name}
        for name, path in names.items()
    }
    assert circles(graph) == []
