"""What the web dashboard's polling costs the gateway: CPU time per poll x poll rate.

    python -m bench.dashboard_poll              # ~40 s; prints a table, exit 1 over the target
    python -m bench.dashboard_poll --json bench/results/dashboard_poll.json
    python -m bench.dashboard_poll --redis redis://127.0.0.1:6379/0   # the cluster-wide summary

A real `switchboard serve` (master key, SQLite key store) in front of the mock provider, with
steady chat traffic (`--rps`, from a thread here) so that every window the summary reads is
full. The gateway's CPU time (/proc/PID/stat) is measured over a stretch of traffic alone (the
baseline rate) and over each batch of polls sent back to back with that same traffic; a poll's
cost is the difference divided by the number of polls. The page polls the summary every 2 s
and the cost and SLO reports every 10 s, while its tab is visible.
Target: under 1% of one core.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from bench.procs import cpu_seconds
from switchboard.testing.processes import gateway_process, mock_provider_process, wait_healthy

MASTER = "sk-master-bench-dashboard-0123456789"
SUMMARY_EVERY_S = 2.0
REPORTS_EVERY_S = 10.0
TARGET_CORE_FRACTION = 0.01


class Client:
    """One keep-alive connection, as a browser tab keeps."""

    def __init__(self, port: int, token: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> bytes:
        data = json.dumps(body).encode() if body is not None else None
        try:
            self.conn.request(method, path, data, self.headers)
            reply = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionError):
            self.conn.close()  # the server closed an idle keep-alive connection: reconnect
            self.conn.request(method, path, data, self.headers)
            reply = self.conn.getresponse()
        payload = reply.read()
        if reply.status >= 400:
            raise RuntimeError(f"{method} {path}: HTTP {reply.status} {payload[:200]!r}")
        return payload


def _traffic(port: int, key: str, rps: float, stop: threading.Event) -> None:
    client = Client(port, key)
    body = {"model": "mock", "messages": [{"role": "user", "content": "hello"}]}
    next_at = time.monotonic()
    while not stop.is_set():
        client.call("POST", "/v1/chat/completions", body)
        next_at += 1 / rps
        time.sleep(max(0.0, next_at - time.monotonic()))


def _measure(pid: int, base_rate: float, n: int, poll: Callable[[], object]) -> dict[str, float]:
    cpu0, t0 = cpu_seconds(pid), time.monotonic()
    for _ in range(n):
        poll()
    elapsed = time.monotonic() - t0
    cpu = cpu_seconds(pid) - cpu0 - base_rate * elapsed
    return {"polls": n, "cpu_ms_per_poll": 1000 * cpu / n, "wall_ms_per_poll": 1000 * elapsed / n}


def _catalogue(path: Path, upstream_url: str) -> Path:
    deployment = {"provider": "openai", "api_base": f"{upstream_url}/v1", "model": "m"}
    catalogue = {
        "models": [{"name": "mock", "deployments": [{**deployment, "name": "mock-a"}]}],
        "slos": [{"name": "all", "latency_s": {"p95": 0.5}, "error_rate": 0.01}],
    }
    path.write_text(yaml.safe_dump(catalogue))
    return path


def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    mock = mock_provider_process(tokens=16, log=tmp / "mock.log")
    mock.start()
    env = {"SWITCHBOARD_MASTER_KEY": MASTER, "SWITCHBOARD_DATABASE_URL": f"sqlite:///{tmp}/k.db"}
    if args.redis:  # the live stats merged over every replica through Redis (scope cluster)
        env |= {"SWITCHBOARD_REDIS_URL": args.redis,
                "SWITCHBOARD_REDIS_PREFIX": f"sbbench:{uuid.uuid4().hex}:"}  # fmt: skip
    gateway = gateway_process(_catalogue(tmp / "catalogue.yaml", mock.base_url), env, tmp / "g.log")
    stop = threading.Event()
    try:
        gateway.start()
        wait_healthy(gateway.base_url)
        assert gateway.proc is not None
        pid, port = gateway.proc.pid, gateway.port
        admin = Client(port, MASTER)
        created = json.loads(admin.call("POST", "/admin/keys", {"name": "bench", "tenant": "b"}))
        load = threading.Thread(target=_traffic, args=(port, created["key"], args.rps, stop))
        load.start()
        time.sleep(args.warm_s)  # fill the windows the summary reads
        cpu0 = cpu_seconds(pid)
        time.sleep(args.baseline_s)
        base_rate = (cpu_seconds(pid) - cpu0) / args.baseline_s

        def summary() -> bytes:
            return admin.call("GET", f"/dashboard/api/summary?since={int(time.time()) - 3}")

        def reports() -> None:
            admin.call("GET", "/admin/cost?top=20")
            admin.call("GET", "/admin/slo")

        results = {
            "summary": _measure(pid, base_rate, args.polls, summary),
            "first_load": _measure(
                pid, base_rate, 20, lambda: admin.call("GET", "/dashboard/api/summary")
            ),
            "reports": _measure(pid, base_rate, args.polls // 5, reports),
        }
    finally:
        stop.set()
        gateway.stop()
        mock.stop()
    per_second_ms = (
        results["summary"]["cpu_ms_per_poll"] / SUMMARY_EVERY_S
        + results["reports"]["cpu_ms_per_poll"] / REPORTS_EVERY_S
    )
    return {
        "rps": args.rps,
        "redis": bool(args.redis),
        "baseline_core_fraction": base_rate,
        **results,
        "core_fraction": per_second_ms / 1000,
        "target": TARGET_CORE_FRACTION,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rps", type=float, default=20.0, help="chat traffic during the run")
    parser.add_argument("--polls", type=int, default=500, help="summary polls measured")
    parser.add_argument("--warm-s", type=float, default=12.0)
    parser.add_argument("--baseline-s", type=float, default=8.0)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--redis", help="a Redis URL: measure the cluster-wide summary")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sb-dashboard-bench-") as tmp:
        out = run(args, Path(tmp))
    print(f"traffic: {out['rps']:.0f} req/s; gateway busy {out['baseline_core_fraction']:.1%}")
    print("what                          cpu ms/poll  wall ms/poll  polls")
    labels = {
        "summary": "summary (every 2 s)",
        "reports": "cost + SLO (every 10 s)",
        "first_load": "summary, 300 points (page load)",
    }
    for name, label in labels.items():
        r = out[name]
        print(f"{label:30}{r['cpu_ms_per_poll']:11.3f}{r['wall_ms_per_poll']:14.3f}{r['polls']:7d}")
    verdict = "ok" if out["core_fraction"] < out["target"] else "OVER TARGET"
    print(f"one open dashboard: {out['core_fraction']:.3%} of one core ({verdict}, target <1%)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2))
    return 0 if verdict == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
