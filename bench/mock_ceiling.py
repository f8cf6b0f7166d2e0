"""Measure the mock provider's own ceiling (requests per second) with wrk.

The gateway's overhead benchmarks are only meaningful while the mock upstream is far from
saturated, so this reports what the mock alone sustains on one pinned core.

    python bench/mock_ceiling.py                     # non-streaming, c=16 and c=64, 10 s each
    python bench/mock_ceiling.py --stream --tokens 64 --connections 64
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

_SERVER = (
    "from switchboard.testing.mock_provider import MockConfig\n"
    "from switchboard.testing.mock_server import run_mock_provider\n"
    "run_mock_provider(MockConfig(tokens={tokens}), '127.0.0.1', {port})\n"
)
_LUA = 'wrk.method = "POST"\nwrk.body = {body}\nwrk.headers["Content-Type"] = "application/json"\n'


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pinned(cpu: str | None, argv: list[str]) -> list[str]:
    if cpu is None or shutil.which("taskset") is None:
        return argv
    return ["taskset", "-c", cpu, *argv]


def _wait_healthy(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the mock provider did not come up")


def _run_wrk(args: argparse.Namespace, url: str, script: Path, conns: int, secs: int) -> dict:
    argv = ["wrk", "-t1", f"-c{conns}", f"-d{secs}s", "--latency", "-s", str(script), url]
    out = subprocess.run(
        _pinned(args.wrk_cpu, argv), capture_output=True, text=True, check=True
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.MULTILINE))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:(.*)", out)
    return {
        "connections": conns,
        "rps": round(rps),
        "p50": latency.get("50"),
        "p99": latency.get("99"),
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1).strip() if errors else "",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", default="16,64", help="comma-separated wrk -c values")
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--tokens", type=int, default=16)
    parser.add_argument("--stream", action="store_true", help="request SSE streams")
    parser.add_argument("--mock-cpu", default="0", help="CPU list for the mock (taskset -c)")
    parser.add_argument("--wrk-cpu", default="1", help="CPU list for wrk (taskset -c)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install -y wrk)", file=sys.stderr)
        return 2

    port = _free_port()
    code = _SERVER.format(tokens=args.tokens, port=port)
    server = subprocess.Popen(
        _pinned(args.mock_cpu, [sys.executable, "-c", code]), stderr=subprocess.DEVNULL
    )
    request: dict[str, Any] = {
        "model": "bench",
        "messages": [{"role": "user", "content": "Say hello."}],
    }
    if args.stream:
        request["stream"] = True
    try:
        _wait_healthy(port)
        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp, "post.lua")
            script.write_text(_LUA.format(body=json.dumps(json.dumps(request))))
            url = f"http://127.0.0.1:{port}/v1/chat/completions"
            _run_wrk(args, url, script, 16, 1)  # warm-up
            results = [
                _run_wrk(args, url, script, int(c), args.duration)
                for c in args.connections.split(",")
            ]
    finally:
        server.terminate()
        server.wait(10)

    kind = "stream" if args.stream else "non-streaming"
    print(
        f"mock ceiling: {kind}, {args.tokens} tokens, mock on cpu {args.mock_cpu}, "
        f"wrk on cpu {args.wrk_cpu}, {args.duration}s a run"
    )
    for row in results:
        print(
            f"  c={row['connections']:<4} {row['rps']:>8} req/s  p50 {row['p50']}  "
            f"p99 {row['p99']}  non-2xx {row['non_2xx']}  {row['socket_errors']}"
        )
    print(json.dumps({"kind": kind, "tokens": args.tokens, "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
