"""The wheel holds every module and data file of every room (pyproject.toml's lists).

Checked here from the source tree in milliseconds; `make wheel-check` builds the real
wheel, installs it in a fresh venv and runs the CLI from it."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
SKIP = {"__pycache__"}


def setuptools_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]


def shipped_files() -> tuple[set[str], set[str]]:
    """(packages with modules, data files) under each mapped folder, as "pkg" and "pkg:rel"."""
    packages, data = set(), set()
    for package, folder in setuptools_config()["package-dir"].items():
        for path in (ROOT / folder).rglob("*"):
            if not path.is_file() or SKIP & set(path.parts):
                continue
            rel = path.relative_to(ROOT / folder)
            if path.suffix == ".py":
                packages.add(".".join((package, *rel.parent.parts)))
            elif not path.name.startswith("."):
                data.add(f"{package}:{rel.as_posix()}")
    return packages, data


def wheel_paths() -> set[str]:
    """Where each module and data file of the rooms lands in a wheel.

    personas/gold.py -> "dramatis/personas/gold.py" (`make wheel-check` compares a built wheel)
    """
    modules, data = shipped_files()
    config = setuptools_config()
    out = set()
    for package, folder in config["package-dir"].items():
        for path in (ROOT / folder).rglob("*.py"):
            rel = path.relative_to(ROOT / folder)
            if ".".join((package, *rel.parent.parts)) in modules and not SKIP & set(path.parts):
                out.add("/".join((*package.split("."), *rel.parts)))
    for item in data:
        package, rel = item.split(":", 1)
        out.add("/".join((*package.split("."), rel)))
    return out


def owner(listed: list[str], data_file: str) -> tuple[str, str]:
    """The listed package whose folder holds a data file, and the file's path below it.

    owner(["a", "a.b"], "a:b/c/x.json") -> ("a.b", "c/x.json")
    """
    package, rel = data_file.split(":", 1)
    parts = rel.split("/")
    for depth in range(len(parts) - 1, -1, -1):  # deepest listed package first
        candidate = ".".join((package, *parts[:depth]))
        if candidate in listed:
            return candidate, "/".join(parts[depth:])
    return package, rel


def glob_matches(rel: str, pattern: str) -> bool:
    """setuptools' package-data glob: `*` stays inside one folder.

    glob_matches("data/gold/x.json", "data/*.json") -> False
    """
    parts, wanted = rel.split("/"), pattern.split("/")
    return len(parts) == len(wanted) and all(map(fnmatch.fnmatchcase, parts, wanted))


def test_every_folder_of_modules_is_a_listed_package():
    packages, _ = shipped_files()
    listed = set(setuptools_config()["packages"])
    assert packages - listed == set(), "add these to [tool.setuptools] packages"
    assert "dramatis.core" in listed and "dramatis.tui" in listed


def test_every_data_file_matches_a_package_data_glob():
    config = setuptools_config()
    globs = config["package-data"]
    _, data = shipped_files()
    missing = []
    for item in sorted(data):
        package, rel = owner(config["packages"], item)
        if not any(glob_matches(rel, g) for g in globs.get(package, [])):
            missing.append(item)
    assert missing == [], "add globs for these to [tool.setuptools.package-data]"


def test_gold_counts_ship_inside_the_package():
    from dramatis.personas.gold import GOLD_FILE, load_gold

    assert GOLD_FILE.is_relative_to(ROOT / "personas")
    assert {"hamlet", "henry_iv_part_1", "richard_iii"} <= set(load_gold())
    assert len(load_gold()) == 8


def test_helpers_follow_setuptools_rules():
    assert owner(["a", "a.b"], "a:b/c/x.json") == ("a.b", "c/x.json")
    assert glob_matches("data/x.json", "data/*.json")
    assert not glob_matches("data/gold/x.json", "data/*.json")
