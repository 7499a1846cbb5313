"""`dramatis serve` under load: many clients at once, some leaving mid-stream.

Run:  python benchmarks/server_load.py [--clients 32] [--leave 0.25] [--model smollm2]
                                       [--queue 8] [--wait 60] [--max-tokens 24]
      python benchmarks/server_load.py --model fake --fake-delay 0.05   # no model

With `--model fake` the server runs the stand-in model, which takes --fake-delay seconds
a token (0.05 by default), so replies take time as a model's do and a client that leaves
can be seen to free the model.

Starts `dramatis serve` in its own process on loopback, times a few short requests
(before), then lets --clients streamed chat requests go at once; a --leave share of them
close their stream after the first piece of speech. Then it times the same short
requests again (after). Prints each status with its count, p50 and p95 latency of the
answered requests (whole reply) and of the refused ones, and before/after, and checks:
every request is answered (200) or refused with 429/503 carrying Retry-After, and the
request after the load is about as fast as before it (a stream left half-way frees the
model at once). `--json FILE` also writes the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ASK = {
    "model": "hamlet",
    "messages": [
        {"role": "system", "content": "The battlements of Elsinore, past midnight."},
        {"role": "user", "name": "Horatio", "content": "My lord, I think I saw your father."},
    ],
}
SHORT = {"model": "hamlet", "prompt": "HORATIO: My lord!\nHAMLET:", "max_tokens": 4, "seed": 1}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(args: argparse.Namespace, home: Path) -> tuple[subprocess.Popen, str]:
    """`dramatis serve` in a new process; (process, base URL) once it listens."""
    port = free_port()
    env = {**os.environ, "DRAMATIS_HOME": str(home), "DRAMATIS_THREADS": str(args.threads)}
    cmd = [sys.executable, "-m", "dramatis", "serve", "--port", str(port),
           "--queue", str(args.queue), "--wait", str(args.wait)]  # fmt: skip
    if args.model == "fake":  # the stand-in model, slowed down (see `child`)
        cmd[1:3] = [__file__, "child", str(args.fake_delay)]
    if args.model:
        cmd += ["--model", args.model]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"dramatis serve exited: {proc.stderr.read().decode()[-400:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, f"http://127.0.0.1:{port}/v1"
        time.sleep(0.3)
    proc.kill()
    raise SystemExit("dramatis serve did not start in 180 s")


def short_seconds(url: str, times: int = 3) -> float:
    """Median seconds of a 4-token text completion (the model otherwise idle)."""
    spent = []
    for _ in range(times):
        began = time.perf_counter()
        httpx.post(f"{url}/completions", json=SHORT, timeout=300).raise_for_status()
        spent.append(time.perf_counter() - began)
    return statistics.median(spent)


def one_client(url: str, index: int, leave: bool, max_tokens: int, out: list[dict]) -> None:
    """One streamed chat request; `leave`: close it after the first piece of speech."""
    body = {**ASK, "stream": True, "max_tokens": max_tokens, "seed": index}
    began = time.perf_counter()
    row: dict = {"client": index, "leaves": leave}
    try:
        with httpx.stream("POST", f"{url}/chat/completions", json=body, timeout=600) as r:
            row["status"] = r.status_code
            row["retry_after"] = r.headers.get("retry-after")
            if r.status_code == 200:
                for line in r.iter_lines():
                    if leave and '"content": "' in line and '"content": ""' not in line:
                        row["left"] = True
                        break
            else:
                r.read()
    except httpx.HTTPError as err:
        row["status"] = f"error: {type(err).__name__}"
    row["seconds"] = time.perf_counter() - began
    out.append(row)


def percentile(values: list[float], share: float) -> float:
    """The `share` quantile, nearest rank: percentile([1, 2, 3, 4], 0.5) -> 2"""
    ranked = sorted(values)
    return ranked[max(0, min(len(ranked) - 1, round(share * len(ranked) + 0.5) - 1))]


def summary(rows: list[dict], before: float, after: float) -> dict:
    statuses: dict[str, int] = {}
    for row in rows:
        statuses[str(row["status"])] = statuses.get(str(row["status"]), 0) + 1
    answered = [r["seconds"] for r in rows if r["status"] == 200 and not r.get("left")]
    refused = [r["seconds"] for r in rows if r["status"] in (429, 503)]
    figures = {
        "clients": len(rows),
        "statuses": statuses,
        "left_mid_stream": sum(bool(r.get("left")) for r in rows),
        "answered_p50_s": percentile(answered, 0.5) if answered else None,
        "answered_p95_s": percentile(answered, 0.95) if answered else None,
        "refused_p50_s": percentile(refused, 0.5) if refused else None,
        "refused_p95_s": percentile(refused, 0.95) if refused else None,
        "short_before_s": before,
        "short_after_s": after,
    }
    ok_status = all(r["status"] in (200, 429, 503) for r in rows)
    ok_retry = all(r["retry_after"] for r in rows if r["status"] in (429, 503))
    figures["every_request_answered_or_refused"] = ok_status and ok_retry
    figures["after_as_fast_as_before"] = after <= 1.5 * before + 0.5
    return figures


def child(delay: float, argv: list[str]) -> None:
    """`dramatis ARGV` with the stand-in model taking `delay` seconds a token."""
    import dramatis.agents.fake_backend as fake_backend
    from dramatis.cli import main as dramatis_main

    class SlowFake(fake_backend.FakeModel):
        def stream(self, prompt, sampling):
            for piece in super().stream(prompt, sampling):
                time.sleep(delay)
                yield piece

    fake_backend.FakeModel = SlowFake  # type: ignore[misc]  # what `--model fake` opens
    sys.argv = ["dramatis", *argv]
    dramatis_main()


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "child":
        child(float(sys.argv[2]), sys.argv[3:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--leave", type=float, default=0.25, help="share that leave mid-stream")
    parser.add_argument("--model", default="smollm2", help="'' for the default model")
    parser.add_argument("--fake-delay", type=float, default=0.05, help="with --model fake")
    parser.add_argument("--queue", type=int, default=8)
    parser.add_argument("--wait", type=float, default=60.0)
    parser.add_argument("--max-tokens", type=int, default=24)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        proc, url = start_server(args, Path(home))
        try:
            short_seconds(url, 1)  # warm: the first request loads the play's lines
            before = short_seconds(url)
            rows: list[dict] = []
            every = round(1 / args.leave) if args.leave > 0 else 0
            threads = [
                threading.Thread(
                    target=one_client,
                    args=(url, i, bool(every) and i % every == 0, args.max_tokens, rows),
                )
                for i in range(args.clients)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            after = short_seconds(url)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    figures = {"model": args.model or "default", "queue": args.queue, "wait_s": args.wait,
               "max_tokens": args.max_tokens, **summary(rows, before, after)}  # fmt: skip
    for key, value in figures.items():
        shown = f"{value:.2f}" if isinstance(value, float) else value
        print(f"{key:34} {shown}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    if not (figures["every_request_answered_or_refused"] and figures["after_as_fast_as_before"]):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
