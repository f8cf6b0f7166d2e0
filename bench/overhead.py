"""Measure Switchboard's overhead against the mock upstream direct and the bare FastAPI forwarder.

Run from the repository root (needs wrk and taskset, Linux):

    python -m bench.overhead                       # 10 s per wrk run, about 2 minutes
    python -m bench.overhead --quick               # 2 s per run, a smoke test (~25 s)
    python -m bench.overhead --repeat 3 --json bench/results/overhead.json   # docs/benchmarks.md

The server under test runs alone on one core; the mock upstream, wrk and this script share the
other, so each proxy gets one whole core and all three targets see the same mock and client.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from types import FrameType
from typing import Any

from bench import report, ttft, wrk
from bench.procs import Fleet, Server, core_busy, core_ticks, cpu_seconds, memory_mib
from bench.targets import (
    BODY,
    DIRECT,
    PATH,
    STREAM_BODY,
    Launcher,
    Layout,
    describe_machine,
    pick_layout,
    start_targets,
)

LEVELS = [1, 16, 64]


def _measured_run(
    server: Server, mock: Server, conns: int, seconds: int, script: Path, layout: Layout
) -> dict[str, Any]:
    """One wrk run plus the CPU the server, the mock and each core spent during it."""
    cpu_before = {server.pid: cpu_seconds(server.pid), mock.pid: cpu_seconds(mock.pid)}
    ticks_before, started = core_ticks(), time.monotonic()
    url = f"http://127.0.0.1:{server.port}{PATH}"
    result = wrk.run(server.name, url, script, conns, seconds, layout.load_cpu)
    wall = time.monotonic() - started
    busy = core_busy(ticks_before, core_ticks())
    row = asdict(result) | {"ok": result.ok}
    server_cpu = cpu_seconds(server.pid) - cpu_before[server.pid]
    row["server_cpu_pct"] = round(100 * server_cpu / wall)
    row["server_cpu_us_per_req"] = round(1e6 * server_cpu / max(result.requests, 1), 1)
    row["mock_cpu_pct"] = round(100 * (cpu_seconds(mock.pid) - cpu_before[mock.pid]) / wall)
    row["load_core_pct"] = busy.get(layout.load_cpu or "", 0.0)
    row["server_core_pct"] = busy.get(layout.server_cpu or "", 0.0)
    return row


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median req/s stands for the cell; a flag on any run flags the cell."""
    row = dict(sorted(runs, key=lambda r: r["rps"])[(len(runs) - 1) // 2])
    row["rps_runs"] = [round(r["rps"]) for r in runs]
    row["flags"] = sorted({f for r in runs for f in r["flags"]})
    row["ok"] = all(r["ok"] for r in runs)
    return row


def _load_runs(
    targets: list[Server], args: argparse.Namespace, layout: Layout, scripts: dict[str, Path]
) -> list[dict[str, Any]]:
    """Warm every target up, then round-robin the targets within each concurrency level, so
    that background load drifting over time hits them all alike."""
    mock = targets[0]
    for target in targets:
        url = f"http://127.0.0.1:{target.port}{PATH}"
        wrk.run(target.name, url, scripts[target.name], 16, args.warmup, layout.load_cpu)
    rows = []
    for conns in LEVELS:
        runs: dict[str, list[dict[str, Any]]] = {t.name: [] for t in targets}
        for _ in range(args.repeat):
            for target in targets:
                script = scripts[target.name]
                row = _measured_run(target, mock, conns, args.duration, script, layout)
                print(
                    f"  {target.name:<12} c={conns:<3} {row['rps']:>8.0f} req/s  "
                    f"p50 {row['p50_ms']:.3f} ms  {', '.join(row['flags']) or 'ok'}",
                    flush=True,
                )
                runs[target.name].append(row)
        rows += [_median_run(r) for r in runs.values()]
    return rows


def _sequential(targets: list[Server], count: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Streamed time to first token and plain JSON latency, one request at a time."""
    stream, plain = {}, {}
    for target in targets:
        port = target.port
        stream[target.name] = ttft.summarize(ttft.measure(port, PATH, STREAM_BODY, count, True))
        plain[target.name] = ttft.summarize(ttft.measure(port, PATH, BODY, count, False))
    return stream, plain


def _memory(targets: list[Server]) -> dict[str, float]:
    return {t.name: memory_mib(t.pid) for t in targets if t.name != DIRECT}


def _dump_logs(tmp: Path) -> None:
    for log in sorted(tmp.glob("*.log")):
        tail = log.read_text(errors="replace").splitlines()[-15:]
        print(f"--- last lines of {log.name}:", *tail, sep="\n", file=sys.stderr)


def _measure(args: argparse.Namespace, layout: Layout) -> dict[str, Any]:
    """Start everything, measure, and stop everything whatever happens."""
    with tempfile.TemporaryDirectory(prefix="sb-overhead-") as name, Fleet() as fleet:
        tmp = Path(name)
        try:
            launcher = Launcher(fleet, layout, tmp, args.switchboard_src)
            targets = start_targets(
                launcher, args.tokens, args.redis or None, args.granian, args.workers
            )
            rest = _memory(targets)
            scripts = {
                t.name: wrk.write_script(tmp / f"post-{i}.lua", BODY, t.headers)
                for i, t in enumerate(targets)
            }
            print(f"load runs: {args.duration} s each, targets {[t.name for t in targets]}")
            rows = _load_runs(targets, args, layout, scripts)
            print(f"sequential checks: {args.requests} requests per target")
            stream, plain = _sequential([t for t in targets if t.headers is None], args.requests)
            after = _memory(targets)
        except Exception:
            _dump_logs(tmp)
            raise
        memory = {
            t.name: {
                "rest_mib": rest[t.name],
                "after_mib": after[t.name],
                "peak_mib": memory_mib(t.pid, "VmHWM"),
            }
            for t in targets
            if t.name != DIRECT
        }
    return {"rows": rows, "stream": stream, "sequential": plain, "memory": memory}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    p.add_argument("--quick", action="store_true", help="2 s runs and 50 requests: a smoke test")
    p.add_argument("--json", type=Path, help="also write the results to this file")
    p.add_argument(
        "--redis",
        default="redis://127.0.0.1:6379/0",
        help="Redis for the keys-and-limits target ('' to skip that target)",
    )
    p.add_argument("--tokens", type=int, default=16, help="completion tokens the mock returns")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="also sb+full served by `serve --workers N` (N > 1; its server gets every core)",
    )
    p.add_argument(
        "--granian",
        action="store_true",
        help="also plain Switchboard served by granian (serve --server granian)",
    )
    p.add_argument("--requests", type=int, default=200, help="sequential requests per target")
    p.add_argument("--repeat", type=int, default=1, help="runs per cell; the median is kept")
    p.add_argument("--warmup", type=int, default=2, help="seconds of wrk warm-up per target")
    p.add_argument("--server-cpu", help="CPU for the server under test (default: 2nd core)")
    p.add_argument("--load-cpu", help="CPU for the mock, wrk and clients (default: 1st core)")
    p.add_argument(
        "--switchboard-src",
        type=Path,
        help="directory holding the switchboard package to run instead (e.g. a git worktree)",
    )
    return p


def _raise_timeout(signum: int, frame: FrameType | None) -> None:
    raise TimeoutError("the benchmark ran past its time bound")


def _raise_exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.quick:
        args.duration, args.requests, args.warmup = 2, 50, 1
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install -y wrk)", file=sys.stderr)
        return 2
    layout = pick_layout(args.server_cpu, args.load_cpu)
    if layout.load_cpu is not None:
        os.sched_setaffinity(0, {int(layout.load_cpu)})
    signal.signal(signal.SIGTERM, _raise_exit)
    signal.signal(signal.SIGALRM, _raise_timeout)
    signal.alarm(len(LEVELS) * 4 * args.repeat * (args.duration + 15) + 300)
    machine = describe_machine(layout, args.switchboard_src)
    try:
        measured = _measure(args, layout)
    finally:
        signal.alarm(0)
    machine["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    settings = {k: getattr(args, k) for k in ("duration", "repeat", "tokens", "requests", "warmup")}
    results = {"machine": machine, "settings": settings, **measured}
    results["ratios"] = report.ratios(measured["rows"], LEVELS)
    report.print_results(results)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
    flagged = [r for r in measured["rows"] if not r["ok"]]
    if flagged:
        print(f"\n{len(flagged)} run(s) flagged: their numbers are not trustworthy")
    return 1 if flagged else 0


if __name__ == "__main__":
    sys.exit(main())
