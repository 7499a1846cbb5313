"""Suites and the runner: jobs, resume after an interruption, the real model, Ray."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dramatis.agents.fake_backend import FakeModel
from dramatis.arena.runner import finished, run_suite
from dramatis.arena.scoring import score_dirs
from dramatis.arena.suite import Suite, load_suite
from dramatis.core.errors import DramatisError
from dramatis.core.settings import Settings


def tiny_suite(configs: int = 2, turns: int = 2, max_tokens: int = 16) -> Suite:
    return Suite.model_validate(
        {
            "name": "tiny",
            "turns": turns,
            "seeds": [1],
            "scenes": [{"cast": ["Hamlet", "Ophelia"], "source": "hamlet:3.1"}],
            "configurations": [
                {"name": f"c{i}", "prompt_format": "script", "max_tokens": max_tokens}
                for i in range(configs)
            ],
        }
    )


class Interrupted(Exception):
    pass


def test_shipped_suites_load_and_name_their_jobs() -> None:
    smoke = load_suite("smoke")
    assert len(smoke.jobs()) == len(smoke.configurations) * len(smoke.scenes) * len(smoke.seeds)
    big = load_suite("hamlet-vs-macbeth")
    sizes = {len(s.cast) for s in big.scenes}
    assert sizes == {2, 4}
    assert {c.policy for c in big.configurations} == {"random", "addressed"}
    assert {c.adapters for c in big.configurations} == {True, False}
    assert {c.model for c in big.configurations} == {"smollm2", "gemma3-270m"}
    assert smoke.jobs()[0].id == "smollm2-chat__hamlet-ophelia__hamlet-3.1__s1"
    for name in ("holdout", "adapters", "best-of", "length"):
        suite = load_suite(name)
        assert len(suite.jobs()) == len(suite.configurations) * len(suite.scenes) * len(suite.seeds)
    adapters = load_suite("adapters").configurations
    assert [(c.prompt_format, c.adapters) for c in adapters] == [("page", False), ("page", True)]


def test_bad_suite_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: x\nscenes: [{cast: [Hamlet]}]\nconfigurations: []\n")
    with pytest.raises(DramatisError, match="scenes.0.cast"):
        load_suite(path)
    with pytest.raises(DramatisError, match="smoke"):
        load_suite("no-such-suite")


def test_resume_skips_finished_jobs(tmp_path: Path, home: Path) -> None:
    made: list[str] = []

    def fake(job, settings):
        made.append(job.id)
        return FakeModel(["My lord, I have remembrances of yours."])

    def stop_after_first(row: dict) -> None:
        raise Interrupted

    suite, settings = tiny_suite(configs=3), Settings.load(home=home)
    with pytest.raises(Interrupted):
        run_suite(suite, tmp_path, settings=settings, make_model=fake, on_done=stop_after_first)
    assert len(finished(tmp_path)) == 1
    rows = run_suite(suite, tmp_path, settings=settings, make_model=fake)
    assert [r["config"] for r in rows] == ["c1", "c2"]
    assert made == [j.id for j in suite.jobs()]  # each job staged exactly once
    assert run_suite(suite, tmp_path, settings=settings, make_model=fake) == []
    ledger = (tmp_path / "results.jsonl").read_text().splitlines()
    assert len(ledger) == 3


@pytest.mark.model
def test_tiny_suite_on_the_real_model_is_scored(tmp_path: Path, home: Path) -> None:
    suite = tiny_suite(configs=1, turns=2, max_tokens=12)
    rows = run_suite(suite, tmp_path, settings=Settings.load(home=home, n_threads=1))
    assert rows[0]["turns"] == 2 and rows[0]["tokens"] > 0
    turns = [
        json.loads(x)
        for x in (tmp_path / "runs" / rows[0]["job"] / "transcript.jsonl").read_text().splitlines()
    ]
    assert [t["source"] for t in turns[:4]] == ["play"] * 4
    assert len(turns) == 6
    scores = score_dirs([tmp_path / "runs"], baselines_dir=tmp_path / "baselines")
    assert set(scores["summary"]) == {
        "c0",
        "baseline:script",
        "baseline:retrieval",
        "baseline:swap",
        "baseline:random",
    }
    assert scores["summary"]["baseline:script"]["rouge_l"] == pytest.approx(1.0)


@pytest.fixture
def local_ray(tmp_path_factory):
    """A local Ray instance bound to loopback, shut down after the test."""
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # read at import: binds loopback
    ray = pytest.importorskip("ray")
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        _temp_dir="/tmp/ray-dramatis-test",
        log_to_driver=False,
    )
    yield ray
    ray.shutdown()


@pytest.mark.slow
@pytest.mark.model
def test_ray_executor_runs_scenes_as_tasks(tmp_path: Path, home: Path, local_ray) -> None:
    suite = tiny_suite(configs=2, turns=1, max_tokens=12)
    settings = Settings.load(home=home, n_threads=1)
    rows = run_suite(suite, tmp_path, executor="ray", workers=2, settings=settings)
    assert sorted(r["config"] for r in rows) == ["c0", "c1"]
    assert {n["NodeManagerAddress"] for n in local_ray.nodes()} == {"127.0.0.1"}
    for row in rows:
        assert (tmp_path / "runs" / row["job"] / "transcript.jsonl").is_file()
    assert run_suite(suite, tmp_path, executor="ray", workers=2, settings=settings) == []


@pytest.mark.slow
@pytest.mark.model
def test_smoke_suite_end_to_end(tmp_path: Path, home: Path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from dramatis.cli import app

    monkeypatch.setenv("DRAMATIS_THREADS", "1")
    out = tmp_path / "smoke"
    result = CliRunner().invoke(app, ["arena", "run", "smoke", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert len(finished(out)) == len(load_suite("smoke").jobs())
    result = CliRunner().invoke(app, ["arena", "report", str(out)])
    assert result.exit_code == 0, result.output
    scores = json.loads((out / "scores.json").read_text())
    configs = {"smollm2-chat", "smollm2-script", "smollm2-page", "gemma3-page"}
    assert configs | {"baseline:script"} <= set(scores["summary"])
    assert (out / "report.html").stat().st_size > 50_000


def test_a_configuration_sets_any_agent_setting(tmp_path: Path, home: Path) -> None:
    from dramatis.arena.stage import job_spec
    from dramatis.staging import cast_personas

    data = tiny_suite(configs=1).model_dump()
    data["configurations"][0]["agent"] = {"best_of": 3, "n_examples": 1}
    job = Suite.model_validate(data).jobs()[0]
    spec, _ = job_spec(job, cast_personas(job.scene.cast))
    assert (spec.agent.best_of, spec.agent.n_examples) == (3, 1)
    assert spec.agent.max_tokens == 16 and spec.agent.prompt_format == "script"
    for bad, says in [({"best_off": 3}, "'best_off' is not an agent setting"),
                      ({"max_tokens": 9}, "max_tokens is set on the configuration itself")]:  # fmt: skip
        path = tmp_path / "s.yaml"
        data["configurations"][0]["agent"] = bad
        path.write_text(json.dumps(data))  # JSON is YAML
        with pytest.raises(DramatisError, match=f"configurations.0.agent: .*{says}"):
            load_suite(path)
