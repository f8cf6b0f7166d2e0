"""Resilience under injected faults, measured end to end with real processes.

    python -m bench.chaos [--requests 1000] [--concurrency 32]

1. The primary deployment fails 30% of requests with 500s, a backup is healthy: how many
   client requests succeed, and how many upstream attempts / failovers that took.
2. The primary is down (connection refused): how soon its breaker opens, and the p50 latency
   once it is open, against a model with only the healthy deployment (same run, same machine).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

from bench.procs import Fleet, Server, free_port
from bench.targets import BODY, PATH, pick_layout

CATALOGUE = """\
models:
  - name: healthy
    deployments:
      - {{provider: openai, model: m, name: healthy-only, api_base: "{ok}"}}
  - name: down
    deployments:
      - {{provider: openai, model: m, name: dead-primary, api_base: "{dead}", connect_timeout: 1}}
    fallbacks: [healthy]
  - name: hung
    deployments:
      - {{provider: openai, model: m, name: hung-primary, api_base: "{ok}", timeout: 0.5,
          headers: {{x-mock-hang: "1"}}}}
    fallbacks: [healthy]
  - name: flaky-30
    strategy: priority
    deployments:
      - {{provider: openai, model: m, name: primary-30, priority: 0, api_base: "{flaky}"}}
      - {{provider: openai, model: m, name: backup-30, priority: 1, api_base: "{ok}"}}
"""


def body(model: str) -> bytes:
    data = json.loads(BODY)
    data["model"] = model
    return json.dumps(data).encode()


async def flaky_run(port: int, n: int, concurrency: int) -> dict[str, Any]:
    """The primary mock fails 30% of its requests at random (seeded)."""
    statuses: Counter[int] = Counter()
    attempts: Counter[int] = Counter()
    sem = asyncio.Semaphore(concurrency)
    url = f"http://127.0.0.1:{port}{PATH}"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:

        async def one() -> None:
            async with sem, http.post(url, data=body("flaky-30")) as resp:
                await resp.read()
                statuses[resp.status] += 1
                attempts[int(resp.headers.get("x-switchboard-attempts", "0"))] += 1

        await asyncio.gather(*(one() for _ in range(n)))
    total_attempts = sum(k * v for k, v in attempts.items())
    return {
        "requests": n,
        "succeeded": statuses[200],
        "success_rate": statuses[200] / n,
        "upstream_attempts": total_attempts,
        "failovers": total_attempts - n,
        "attempt_histogram": dict(attempts),
    }


async def latencies(port: int, model: str, n: int, min_s: float = 0.0) -> list[float]:
    """`n` sequential requests, continuing until at least `min_s` seconds have passed."""
    url = f"http://127.0.0.1:{port}{PATH}"
    out: list[float] = []
    deadline = time.perf_counter() + min_s
    async with aiohttp.ClientSession() as http:
        while len(out) < n or time.perf_counter() < deadline:
            t0 = time.perf_counter()
            async with http.post(url, data=body(model)) as resp:
                await resp.read()
                assert resp.status == 200, resp.status
            out.append((time.perf_counter() - t0) * 1000)
    return out


async def breaker_run(port: int, model: str, n: int) -> dict[str, Any]:
    """Sequential requests to `model` (dead primary + healthy fallback) against `healthy`."""
    await latencies(port, "healthy", 50)  # warm up
    healthy = await latencies(port, "healthy", n)
    # long enough for the breaker's minimum span (1 s by default), then the last n requests
    broken = await latencies(port, model, n, min_s=3.0)
    p50 = statistics.median(healthy)
    slow = [i for i, ms in enumerate(broken) if ms > p50 + 20]
    settled = broken[-n:]
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/ready") as resp:
            circuits = (await resp.json())["circuits"]
    return {
        "healthy_p50_ms": round(p50, 3),
        "requests": len(broken),
        "requests_that_paid_for_the_dead_primary": len(slow),
        "p50_ms_once_open": round(statistics.median(settled), 3),
        "difference_p50_ms": round(statistics.median(settled) - p50, 3),
        "circuits": circuits,
    }


def wait_listening(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    layout = pick_layout()
    with tempfile.TemporaryDirectory() as tmp_name, Fleet() as fleet:
        tmp = Path(tmp_name)
        mock_port = free_port()
        mock = fleet.start(
            Server("mock", [sys.executable, "-m", "switchboard.cli", "mock-provider", "--port",
                            str(mock_port), "--error-rate", "0"], mock_port, layout.load_cpu,
                   tmp / "mock.log")
        )  # fmt: skip
        mock.wait_ready(PATH, BODY, 20)
        # the primary that fails ~30%: a second mock with --error-rate 0.3
        flaky_port = free_port()
        fleet.start(
            Server("flaky", [sys.executable, "-m", "switchboard.cli", "mock-provider", "--port",
                             str(flaky_port), "--error-rate", "0.3", "--seed", "7"], flaky_port,
                   layout.load_cpu, tmp / "flaky.log")
        )  # fmt: skip
        wait_listening(flaky_port)
        catalogue = CATALOGUE.format(
            ok=f"http://127.0.0.1:{mock_port}/v1",
            dead=f"http://127.0.0.1:{free_port()}/v1",
            flaky=f"http://127.0.0.1:{flaky_port}/v1",
        )
        (tmp / "catalogue.yaml").write_text(catalogue)
        port = free_port()
        gateway = fleet.start(
            Server("switchboard", [sys.executable, "-m", "switchboard.cli", "serve", "--config",
                                   str(tmp / "catalogue.yaml"), "--port", str(port)], port,
                   layout.server_cpu, tmp / "switchboard.log")
        )  # fmt: skip
        gateway.wait_ready(PATH, body("healthy"), 30)
        results = {
            "flaky_30pct": asyncio.run(flaky_run(port, args.requests, args.concurrency)),
            "refused_primary": asyncio.run(breaker_run(port, "down", 300)),
            "hanging_primary": asyncio.run(breaker_run(port, "hung", 300)),
        }
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
