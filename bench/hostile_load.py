"""How an honest client fares while hostile clients hammer the same gateway.

Run from the repository root (needs redis-server; Linux, for /proc):

    python -m bench.hostile_load                   # 60 s: 20 s quiet, then 40 s under attack
    python -m bench.hostile_load --duration 30     # shorter
    python -m bench.hostile_load --attacks slow_head,deep_json   # some attacks only

A real gateway process (master key, a Redis of its own, the mock upstream as a process) serves
one honest client (c=4, short chat completions, a key whose limits never bind) first alone, then
beside bench/hostile_clients.py. Prints a table and writes JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from bench.procs import cpu_seconds, memory_mib
from switchboard.testing.processes import (
    RedisProcess,
    ServiceProcess,
    gateway_process,
    mock_provider_process,
    wait_healthy,
)

MASTER = "sk-master-bench-hostile-0123456789"
HONEST_BODY = {"model": "mock", "messages": [{"role": "user", "content": "Say hello."}]}
HONEST_CONCURRENCY = 4
ATTACK_RAMP_S = 2.0


@dataclass
class Phase:
    """The honest client's view of one phase, and what the gateway spent on it."""

    name: str
    seconds: float
    requests: int
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    gateway_cpu_s: float
    cpu_ms_per_request: float
    rss_before_mib: float
    rss_after_mib: float

    @property
    def error_rate(self) -> float:
        return self.errors / max(self.requests, 1)


def _catalogue(path: Path, mock: ServiceProcess) -> Path:
    base = {"provider": "openai", "api_base": f"{mock.base_url}/v1", "api_key": "sk-upstream"}

    def model(name: str, headers: dict[str, str]) -> dict[str, Any]:
        deployment = {**base, "name": f"{name}-a", "model": "m", "headers": headers}
        return {"name": name, "deployments": [deployment]}

    models = [
        model("mock", {}),
        model("mock-slow", {"x-mock-itl-ms": "50", "x-mock-tokens": "400"}),
        model("mock-late", {"x-mock-ttft-ms": "500"}),
    ]
    path.write_text(yaml.safe_dump({"default_model": "mock", "models": models}))
    return path


def _start_gateway(tmp: Path, mock: ServiceProcess, redis: RedisProcess) -> ServiceProcess:
    settings = {
        "SWITCHBOARD_MASTER_KEY": MASTER,
        "SWITCHBOARD_REDIS_URL": redis.url,
        "SWITCHBOARD_DATABASE_URL": f"sqlite:///{tmp / 'keys.db'}",
        "SWITCHBOARD_LOG_LEVEL": "warning",
    }
    gateway = gateway_process(_catalogue(tmp / "catalogue.yaml", mock), settings, tmp / "gw.log")
    gateway.start()
    wait_healthy(gateway.base_url)
    return gateway


def _honest_key(url: str) -> str:
    """A key with RPM and TPM limits, set far above what c=4 can reach."""
    body = {"name": "honest", "tenant": "bench", "rpm": 1_000_000, "tpm": 1_000_000_000}
    resp = httpx.post(
        f"{url}/admin/keys", json=body, headers={"Authorization": f"Bearer {MASTER}"}, timeout=10
    )
    resp.raise_for_status()
    return str(resp.json()["key"])


async def _honest_worker(http: httpx.AsyncClient, deadline: float, out: list[float | None]) -> None:
    """Chat completions one after another; a latency in seconds, or None for an error."""
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            resp = await http.post("/v1/chat/completions", json=HONEST_BODY)
            ok = resp.status_code == 200 and bool(resp.json()["choices"])
        except (httpx.HTTPError, ValueError, KeyError):
            ok = False
        out.append(time.perf_counter() - started if ok else None)


async def _honest(url: str, key: str, seconds: float) -> list[float | None]:
    headers = {"Authorization": f"Bearer {key}"}
    results: list[float | None] = []
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
        workers = [_honest_worker(http, deadline, results) for _ in range(HONEST_CONCURRENCY)]
        await asyncio.gather(*workers)
    return results


def _percentile(sorted_ms: list[float], q: float) -> float:
    if not sorted_ms:
        return float("nan")
    return round(sorted_ms[min(len(sorted_ms) - 1, int(q * len(sorted_ms)))], 3)


def _measure(name: str, gateway_pid: int, url: str, key: str, seconds: float) -> Phase:
    """Run the honest client for `seconds` and read the gateway's CPU and RSS around it."""
    cpu_before, rss_before = cpu_seconds(gateway_pid), memory_mib(gateway_pid)
    started = time.monotonic()
    results = asyncio.run(_honest(url, key, seconds))
    elapsed = time.monotonic() - started
    cpu = cpu_seconds(gateway_pid) - cpu_before
    latencies = sorted(1000 * r for r in results if r is not None)
    return Phase(
        name=name,
        seconds=round(elapsed, 1),
        requests=len(results),
        errors=sum(r is None for r in results),
        p50_ms=_percentile(latencies, 0.50),
        p95_ms=_percentile(latencies, 0.95),
        p99_ms=_percentile(latencies, 0.99),
        gateway_cpu_s=round(cpu, 2),
        cpu_ms_per_request=round(1000 * cpu / max(len(results), 1), 3),
        rss_before_mib=rss_before,
        rss_after_mib=memory_mib(gateway_pid),
    )


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _under_attack(
    gateway: ServiceProcess, key: str, seconds: float, only: str | None
) -> tuple[Phase, Any]:
    """The honest client again, with bench.hostile_clients running beside it in its own process;
    the attackers' outcomes come back with the CPU seconds they burnt."""
    argv = [sys.executable, "-m", "bench.hostile_clients", gateway.base_url, key]
    cpu_before = _children_cpu_s()
    argv += [str(seconds + ATTACK_RAMP_S), *([only] if only else [])]
    attackers = subprocess.Popen(argv, stdout=subprocess.PIPE)
    try:
        time.sleep(ATTACK_RAMP_S)
        assert gateway.proc is not None
        phase = _measure("under attack", gateway.proc.pid, gateway.base_url, key, seconds)
        out, _ = attackers.communicate(timeout=seconds + 60)
    finally:
        if attackers.poll() is None:
            attackers.kill()
            attackers.wait()
    outcomes = json.loads(out) if out else {}
    return phase, {
        "outcomes": outcomes,
        "attackers_cpu_s": round(_children_cpu_s() - cpu_before, 1),
    }


def _run(quiet_s: float, attack_s: float, only: str | None) -> dict[str, Any]:
    """Start Redis, the mock and the gateway; measure both phases; always stop them."""
    redis, mock = RedisProcess(), mock_provider_process(tokens=16)
    with tempfile.TemporaryDirectory(prefix="sb-hostile-") as name:
        tmp = Path(name)
        redis.start()
        mock.start()
        gateway: ServiceProcess | None = None
        try:
            gateway = _start_gateway(tmp, mock, redis)
            assert gateway.proc is not None
            key = _honest_key(gateway.base_url)
            asyncio.run(_honest(gateway.base_url, key, 2.0))  # warm-up
            quiet = _measure("quiet", gateway.proc.pid, gateway.base_url, key, quiet_s)
            attacked, attacks = _under_attack(gateway, key, attack_s, only)
            alive = gateway.proc.poll() is None
        finally:
            if gateway is not None:
                gateway.stop()
            mock.stop()
            redis.kill()
    phases = [asdict(quiet), asdict(attacked)]
    return {"phases": phases, "attacks": attacks, "alive": alive, "loadavg": os.getloadavg()}


def _verdict(results: dict[str, Any]) -> dict[str, Any]:
    quiet, attacked = results["phases"]
    ratio = attacked["p50_ms"] / quiet["p50_ms"] if quiet["p50_ms"] else float("nan")
    errors = quiet["errors"] + attacked["errors"]
    ok = errors == 0 and ratio <= 2.0 and results["alive"]
    return {"p50_ratio": round(ratio, 2), "honest_errors": errors, "met_target": ok}


def _print_phases(phases: list[dict[str, Any]]) -> None:
    print(
        f"\n{'phase':<14}{'s':>5}{'reqs':>7}{'err%':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'gw cpu%':>8}{'cpu ms/req':>11}{'rss MiB before->after':>24}"
    )
    for p in phases:
        err = 100 * p["errors"] / max(p["requests"], 1)
        share = 100 * p["gateway_cpu_s"] / p["seconds"]
        rss = f"{p['rss_before_mib']:.1f} -> {p['rss_after_mib']:.1f}"
        print(
            f"{p['name']:<14}{p['seconds']:>5.0f}{p['requests']:>7}{err:>7.2f}{p['p50_ms']:>9.2f}"
            f"{p['p95_ms']:>9.2f}{p['p99_ms']:>9.2f}{share:>8.0f}"
            f"{p['cpu_ms_per_request']:>11.2f}{rss:>24}"
        )


def _print_attacks(attacks: dict[str, Any]) -> None:
    print(f"\nattacks, attempts by outcome (attackers' own CPU: {attacks['attackers_cpu_s']} s):")
    for name, outcomes in attacks["outcomes"].items():
        print(f"  {name:<24}" + ", ".join(f"{k}: {v}" for k, v in outcomes.items()))


def _print(results: dict[str, Any]) -> None:
    _print_phases(results["phases"])
    _print_attacks(results["attacks"])
    v = results["verdict"]
    print(f"\nload average (1, 5, 15 min) at the end: {results['loadavg']}")
    print(
        f"p50 under attack / quiet: {v['p50_ratio']}x; honest errors: {v['honest_errors']}; "
        f"gateway alive: {results['alive']}; target (no errors, p50 within 2x): "
        f"{'met' if v['met_target'] else 'MISSED'}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60, help="seconds in all (default 60)")
    parser.add_argument("--json", type=Path, default=Path("bench/results/hostile_load.json"))
    parser.add_argument("--attacks", help="only these attacks, comma-separated (default: all)")
    args = parser.parse_args(argv)
    quiet_s = args.duration / 3
    results = _run(quiet_s, args.duration - quiet_s, args.attacks)
    results["verdict"] = _verdict(results)
    _print(results)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2))
    return 0 if results["verdict"]["met_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
