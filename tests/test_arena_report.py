"""The report: scores.json, ratings, every PNG, and report.html opened in a real browser."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from dramatis.arena.ratings import bradley_terry, comparisons, fidelity, ratings
from dramatis.arena.report import PLOTS, write_report

RUN = Path(__file__).parent / "data" / "arena_run"


def row(config: str, seed: int, in_world: float) -> dict:
    return {
        "config": config,
        "cast": ["A", "B"],
        "source_scene": None,
        "seed": seed,
        "values": {"in_world": in_world},
    }


def test_fidelity_counts_copying_as_a_failure() -> None:
    assert fidelity({"in_world": 1.0, "copying": 1.0}) == 0.5


def test_bradley_terry_orders_a_clear_winner() -> None:
    rows = [row("good", s, 0.9) for s in range(6)] + [row("bad", s, 0.1) for s in range(6)]
    rows += [row("mid", s, 0.95 if s == 0 else 0.5) for s in range(6)] + [row("baseline:x", 0, 1.0)]
    configs, pairs = comparisons(rows)
    assert configs == ["bad", "good", "mid"]  # baselines are not rated
    rated = ratings(rows, boot=50)
    assert rated["good"]["rating"] > rated["mid"]["rating"] > rated["bad"]["rating"]
    assert rated["bad"]["low"] <= rated["bad"]["rating"] <= rated["bad"]["high"]
    assert bradley_terry(2, []).tolist() == [0.0, 0.0]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    shutil.copytree(RUN, folder / "runs" / "one")
    return write_report(folder)


def test_report_files_are_produced_and_non_trivial(report: Path) -> None:
    folder = report.parent
    scores = json.loads((folder / "scores.json").read_text())
    assert {"runs", "summary", "ratings"} <= set(scores)
    assert "baseline:script" in scores["summary"]
    for name in PLOTS:
        data = (folder / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000, name
    page = report.read_text()
    assert page.count("data:image/png;base64,") == len(PLOTS)
    assert "http://" not in page and "https://" not in page  # works offline


def test_every_plot_loads_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    base = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [*base, "--virtual-time-budget=5000", "--dump-dom", report.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert f'data-images="{len(PLOTS)}"' in dom
    assert f'data-loaded="{len(PLOTS)}"' in dom
    shot = tmp_path / "report.png"
    subprocess.run(
        [*base, "--window-size=1200,2400", f"--screenshot={shot}", report.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.stat().st_size > 50_000


def test_ratings_count_ties_apart_from_games() -> None:
    """Equal fidelity on one meeting is a tie: no game for either side, and counted."""
    from dramatis.arena.ratings import ratings

    def row(config: str, seed: int, in_world: float) -> dict:
        return {
            "config": config,
            "cast": ["Hamlet"],
            "seed": seed,
            "values": {"in_world": in_world},
        }

    rows = [row("a", 1, 1.0), row("b", 1, 1.0), row("a", 2, 1.0), row("b", 2, 0.5)]
    rated = ratings(rows, boot=10)
    assert rated["a"]["ties"] == rated["b"]["ties"] == 1
    assert rated["a"]["games"] == rated["b"]["games"] == 1 and rated["a"]["wins"] == 1
