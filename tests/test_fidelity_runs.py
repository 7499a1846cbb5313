"""The fidelity grid's command lines and its shared home (benchmarks/fidelity_runs.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("fidelity_runs", ROOT / "benchmarks/fidelity_runs.py")
assert spec and spec.loader
grid = importlib.util.module_from_spec(spec)
spec.loader.exec_module(grid)


def test_levers_alone_draw_one_candidate_and_the_default_is_plain_stage(tmp_path: Path) -> None:
    for config in ("chat", "page", "steer", "tuned"):
        cmd = grid.command("dramatis", config, "Hamlet,Ophelia", "hamlet:3.1", 2, tmp_path)
        assert "best_of=1" in cmd, config
    plain = grid.command("dramatis", "default", "Hamlet,Ophelia", "", 2, tmp_path)
    assert plain == ["dramatis", "stage", "--cast", "Hamlet,Ophelia", "--turns", "12"] + [
        "--seed",
        "2",
        "--out",
        str(tmp_path),
    ]


def test_share_home_links_adapters_and_the_large_model(tmp_path: Path) -> None:
    user = tmp_path / "user"
    (user / "adapters" / "hamlet").mkdir(parents=True)
    (user / "cache").mkdir()
    (user / "cache" / grid.LARGE).write_bytes(b"GGUF")
    home = tmp_path / "config-home"
    grid.share_home(home, user)
    assert (home / "adapters" / "hamlet").is_dir()
    assert (home / "cache" / grid.LARGE).read_bytes() == b"GGUF"
    grid.share_home(home, user)  # a second run keeps the links
    assert (home / "adapters").is_symlink()


def test_share_home_skips_what_the_user_has_not_made(tmp_path: Path) -> None:
    home = tmp_path / "config-home"
    grid.share_home(home, tmp_path / "empty")
    assert not (home / "adapters").exists()
