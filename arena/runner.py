"""Run a suite: every job staged once, results appended to results.jsonl as they finish.

OUT/results.jsonl   one JSON line per finished job (the resume ledger)
OUT/runs/JOB_ID/    transcript.jsonl + scene.json, as `dramatis stage` writes them

An interrupted run resumes without redoing finished jobs: a job counts as finished
once its line is in results.jsonl; an unfinished job is staged again from the start.
Executors: "local" (one job at a time in this process) or "ray" (one Ray task per
job, `workers` at a time, on a local instance bound to loopback or an existing cluster).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from dramatis.arena.stage import ModelFactory, llama_model, run_job
from dramatis.arena.suite import Job, Suite
from dramatis.core.errors import DramatisError
from dramatis.core.settings import Settings

EXECUTORS = ("local", "ray")
OnDone = Callable[[dict], None]


def finished(out: Path) -> set[str]:
    """Ids of the jobs already in OUT/results.jsonl (a torn last line is ignored)."""
    ledger = out / "results.jsonl"
    if not ledger.is_file():
        return set()
    done = set()
    for line in ledger.read_text(encoding="utf-8").splitlines():
        try:
            done.add(json.loads(line)["job"])
        except (json.JSONDecodeError, KeyError, TypeError):
            continue
    return done


def record(out: Path, row: dict) -> None:
    """Append one finished job to the ledger (flushed before the next job starts)."""
    with (out / "results.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps(row, ensure_ascii=False) + "\n")
        f.flush()


def pending(suite: Suite, out: Path) -> list[Job]:
    done = finished(out)
    return [job for job in suite.jobs() if job.id not in done]


def run_suite(
    suite: Suite,
    out: Path,
    *,
    executor: str = "local",
    workers: int = 1,
    settings: Settings | None = None,
    make_model: ModelFactory = llama_model,
    on_done: OnDone | None = None,
) -> list[dict]:
    """Stage every job not yet finished; returns the rows of the jobs run now."""
    if executor not in EXECUTORS:
        raise DramatisError(f"--executor {executor!r}: use one of {', '.join(EXECUTORS)}")
    settings = settings or Settings.load()
    out.mkdir(parents=True, exist_ok=True)
    (out / "suite.json").write_text(suite.model_dump_json(indent=2) + "\n", encoding="utf-8")
    jobs = pending(suite, out)
    rows: list[dict] = []

    def done(row: dict) -> None:
        record(out, row)
        rows.append(row)
        if on_done is not None:
            on_done(row)

    if executor == "local":
        for job in jobs:
            done(run_job(job, out / "runs" / job.id, settings, make_model))
    else:
        _run_on_ray(jobs, out, settings, workers, make_model, done)
    return rows


def _remote_job(job: dict, folder: str, settings: dict, make_model: ModelFactory) -> dict:
    """What a Ray worker runs: plain data in, a summary row out."""
    return run_job(
        Job.model_validate(job), Path(folder), Settings.model_validate(settings), make_model
    )


def _run_on_ray(
    jobs: Sequence[Job],
    out: Path,
    settings: Settings,
    workers: int,
    make_model: ModelFactory,
    done: OnDone,
) -> None:
    """One Ray task per job, `workers` in flight; rows recorded as each one finishes.

    Joins a running Ray instance (RAY_ADDRESS or one this process started), else starts
    a local one bound to loopback."""
    import os

    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # read at import: loopback
    import ray

    if not ray.is_initialized() and os.environ.get("RAY_ADDRESS"):
        ray.init()
    elif not ray.is_initialized():
        ray.init(
            address="local",
            num_cpus=workers,
            include_dashboard=False,
            _node_ip_address="127.0.0.1",
        )
    task = ray.remote(num_cpus=1)(_remote_job)
    data = settings.model_dump(mode="json")
    running = {
        task.remote(j.model_dump(), str(out / "runs" / j.id), data, make_model): j for j in jobs
    }
    while running:
        ready, _ = ray.wait(list(running), num_returns=1)
        running.pop(ready[0])
        done(ray.get(ready[0]))
