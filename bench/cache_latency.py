"""What a cache hit costs and what it is worth: latency one request at a time, and req/s at
c=16, against a miss and against the same gateway with no cache, all measured in one run.

Run from the repository root (Linux, wrk and taskset; loads MiniLM in the gateway; ~2 min):

    python -m bench.cache_latency
    python -m bench.cache_latency --quick --json bench/results/cache_latency.json
    python -m bench.cache_latency --no-wrk --embedder-precision fp32   # no wrk: sequential only

The gateway (one core) serves three models over the shipped mock upstream: `plain` (no cache),
`exact` (exact layer) and `semantic` (exact + semantic). Its own overhead is the
`x-switchboard-overhead-ms` header (time in the gateway, upstream waits excluded); for a hit
that is all of its time. Semantic hits are the paraphrase pairs of bench/cache_eval: every
first question stored, every second asked (each embedding computed, none cached before).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import wrk
from bench.procs import Fleet, Server, cpu_seconds, free_port
from bench.targets import PATH, Launcher, pick_layout

LEVEL = 16
_MISS_LUA = """
counter = 0
request = function()
  counter = counter + 1
  local body = '{"model": "%s", "max_tokens": 16, "messages": [{"role": "user", "content": '
    .. '"question ' .. counter .. ' of run ' .. math.random(1, 1000000000) .. '"}]}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
"""


def _body(model: str, text: str) -> bytes:
    messages = [{"role": "user", "content": text}]
    return json.dumps({"model": model, "messages": messages, "max_tokens": 16}).encode()


class Client:
    """One keep-alive connection: end-to-end time, the gateway's overhead header, the outcome."""

    def __init__(self, port: int) -> None:
        self._conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def post(self, body: bytes) -> tuple[float, float, str]:
        started = time.perf_counter()
        self._conn.request("POST", PATH, body, {"Content-Type": "application/json"})
        reply = self._conn.getresponse()
        reply.read()
        elapsed = (time.perf_counter() - started) * 1000
        if reply.status != 200:
            raise RuntimeError(f"HTTP {reply.status}")
        overhead = float(reply.getheader("x-switchboard-overhead-ms") or "nan")
        return elapsed, overhead, reply.getheader("x-switchboard-cache") or "none"


def _pct(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


Sample = tuple[float, float, str]


def _summary(samples: list[Sample]) -> dict[str, Any]:
    e2e, overhead = [s[0] for s in samples], [s[1] for s in samples]
    return {
        "n": len(samples),
        "e2e_p50_ms": round(_pct(e2e, 50), 3),
        "e2e_p99_ms": round(_pct(e2e, 99), 3),
        "gateway_p50_ms": round(_pct(overhead, 50), 3),
        "gateway_p99_ms": round(_pct(overhead, 99), 3),
    }


class Timed:
    """The gateway's CPU seconds per request over a batch of requests."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def run(self, client: Client, bodies: list[bytes]) -> tuple[list[Sample], float]:
        before = cpu_seconds(self.pid)
        samples = [client.post(b) for b in bodies]
        return samples, (cpu_seconds(self.pid) - before) / max(len(bodies), 1) * 1000


def _row(samples: list[Sample], cpu_ms: float) -> dict[str, Any]:
    return {**_summary(samples), "gateway_cpu_ms_per_req": round(cpu_ms, 3)}


def _sequential(port: int, pid: int, count: int) -> dict[str, Any]:
    from bench.cache_pairs import load_tuning

    client, timed = Client(port), Timed(pid)
    out: dict[str, Any] = {}
    plain = [_body("plain", f"plain {i}") for i in range(count)]
    out["plain (no cache, upstream call)"] = _row(*timed.run(client, plain))
    misses = [_body("exact", f"miss {i} {time.time()}") for i in range(count)]
    out["exact miss (lookup + store + upstream)"] = _row(*timed.run(client, misses))
    client.post(_body("exact", "the cached question"))
    time.sleep(0.2)  # the write is in the background
    hits, cpu = timed.run(client, [_body("exact", "the cached question")] * count)
    assert all(h[2] == "hit-exact" for h in hits), {h[2] for h in hits}
    out["exact hit"] = _row(hits, cpu)
    pairs = [p for p in load_tuning() if p.positive]
    for p in pairs:
        client.post(_body("semantic", p.a[-1].text()))
    time.sleep(1.0)
    asked, cpu = timed.run(client, [_body("semantic", p.b[-1].text()) for p in pairs])
    hit = [s for s in asked if s[2] == "hit-semantic"]
    out["semantic lookups, hits and misses"] = _row(asked, cpu)
    out["semantic hit (embedding included)"] = _summary(hit)
    out["semantic miss (embedding + search + upstream)"] = _summary(
        [s for s in asked if s[2] == "miss"]
    )
    texts = [p.b[-1].text() for p, s in zip(pairs, asked, strict=True) if s[2] == "hit-semantic"]
    again, cpu = timed.run(client, [_body("semantic", text) for text in texts])
    out["semantic hit, embedding from the L3 cache"] = _row(again, cpu)
    return out


def _throughput(
    server: Server, tmp: Path, load_cpu: str | None, seconds: int, repeat: int
) -> dict[str, Any]:
    """Round-robin the three loads `repeat` times (drifting background load hits them all
    alike); the run with the median req/s stands for each."""
    url = f"http://127.0.0.1:{server.port}{PATH}"
    scripts = {
        "exact hit": wrk.write_script(tmp / "hit.lua", _body("exact", "the cached question")),
        "plain (no cache)": wrk.write_script(tmp / "plain.lua", _body("plain", "hello")),
    }
    miss = wrk.write_script(tmp / "miss.lua", _body("exact", "x"))
    miss.write_text(miss.read_text() + _MISS_LUA % "exact")
    scripts["exact miss"] = miss
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in scripts}
    for name, script in scripts.items():
        wrk.run(name, url, script, LEVEL, 1, load_cpu)  # warm-up
    for _ in range(repeat):
        for name, script in scripts.items():
            before = cpu_seconds(server.pid)
            result = wrk.run(name, url, script, LEVEL, seconds, load_cpu)
            cpu = cpu_seconds(server.pid) - before
            runs[name].append({
                "rps": round(result.rps),
                "p50_ms": result.p50_ms,
                "p99_ms": result.p99_ms,
                "cpu_us_per_req": round(1e6 * cpu / max(result.requests, 1), 1),
                "flags": result.flags,
            })  # fmt: skip
    rows = {}
    for name, found in runs.items():
        row = dict(sorted(found, key=lambda r: r["rps"])[(len(found) - 1) // 2])
        row["rps_runs"] = [r["rps"] for r in found]
        rows[name] = row
    return rows


def _catalogue(tmp: Path, mock_port: int) -> Path:
    dep = f"api_base: http://127.0.0.1:{mock_port}/v1, api_key: sk-bench"
    lines = ["models:"]
    for name, cache in (
        ("plain", None),
        ("exact", "{ttl_s: 3600}"),
        ("semantic", "{layers: [exact, semantic], ttl_s: 3600}"),
    ):
        deployment = f"{{provider: openai, model: mock-upstream, name: {name}-dep, {dep}}}"
        lines += [f"  - name: {name}", "    deployments:", f"      - {deployment}"]
        if cache:
            lines.append(f"    cache: {cache}")
    path = tmp / "catalogue.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests, 2 s wrk runs")
    parser.add_argument("--json", help="write the results here too")
    parser.add_argument(
        "--embedder-precision",
        choices=["auto", "bf16", "fp32"],
        help="the gateway's SWITCHBOARD_EMBEDDER_PRECISION (default: its own default)",
    )
    parser.add_argument(
        "--no-wrk", action="store_true", help="one request at a time only (no c=16 wrk runs)"
    )
    args = parser.parse_args()
    count, seconds, repeat = (100, 2, 1) if args.quick else (300, 5, 3)
    layout = pick_layout()
    with tempfile.TemporaryDirectory(prefix="sb-cache-") as name, Fleet() as fleet:
        tmp = Path(name)
        launcher = Launcher(fleet, layout, tmp, None)
        if args.embedder_precision:
            launcher.env["SWITCHBOARD_EMBEDDER_PRECISION"] = args.embedder_precision
        mock = launcher.mock(16)
        config = _catalogue(tmp, mock.port)
        port = free_port()
        cli = [sys.executable, "-m", "switchboard.cli", "serve", "--config", str(config)]
        server = Server("switchboard", [*cli, "--port", str(port)], port, layout.server_cpu,
                        tmp / "sb.log", launcher.env, tmp)  # fmt: skip
        fleet.start(server).wait_ready(PATH, _body("plain", "ready?"), 60)
        Client(port).post(_body("semantic", "warm the embedder up"))
        result = {"sequential": _sequential(port, server.pid, count)}
        if not args.no_wrk:
            result["c16"] = _throughput(server, tmp, layout.load_cpu, seconds, repeat)
        result["load_average"] = os.getloadavg()
        result["embedder_precision"] = args.embedder_precision or "default"
    print("one request at a time (ms):")
    for label, row in result["sequential"].items():
        cpu = row.get("gateway_cpu_ms_per_req")
        print(
            f"  {label:48} e2e p50 {row['e2e_p50_ms']:7.3f}  p99 {row['e2e_p99_ms']:7.3f}  "
            f"gateway p50 {row['gateway_p50_ms']:7.3f}  (n={row['n']})"
            + (f"  CPU {cpu:.3f} ms/req" if cpu is not None else "")
        )
    print(f"load average: {result['load_average']}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    if args.no_wrk:
        return
    print(f"c={LEVEL}:")
    for label, row in result["c16"].items():
        print(
            f"  {label:18} {row['rps']:7} req/s  p50 {row['p50_ms']:.2f} ms  "
            f"{row['cpu_us_per_req']:7.1f} us CPU/req  runs {row['rps_runs']}  "
            f"{', '.join(row['flags']) or 'ok'}"
        )
    hit, plain = result["c16"]["exact hit"], result["c16"]["plain (no cache)"]
    miss = result["c16"]["exact miss"]
    print(
        f"hit/miss req/s: {hit['rps'] / max(miss['rps'], 1):.2f}x; "
        f"hit/plain: {hit['rps'] / max(plain['rps'], 1):.2f}x"
    )


if __name__ == "__main__":
    main()
