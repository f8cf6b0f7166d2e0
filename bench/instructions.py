"""Instructions per request (callgrind), the figure other load on the machine cannot disturb.

    python -m bench.instructions                       # forwarder, switchboard, sb+full
    python -m bench.instructions --switchboard-src /tmp/sb-base   # another checkout
    python -m bench.instructions --targets switchboard --requests 100

Each proxy runs under `valgrind --tool=callgrind` with instrumentation off; after a warm-up it is
switched on (`callgrind_control -i on`), the counts zeroed, `--requests` sequential non-streaming
requests sent (the same body as bench/overhead) and the count dumped. The mock runs normally.
Reports instructions (Ir) per request of the proxy process: its Python, C extensions and the
kernel-call wrappers, not the kernel itself, nor Redis or the mock. Slow (valgrind runs the
proxy ~50x slower), so it uses few requests; the counts barely vary from run to run.
"""

from __future__ import annotations

import argparse
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.procs import Fleet, Server, post
from bench.targets import (
    BODY,
    FORWARDER,
    FULL,
    PATH,
    STREAM_BODY,
    SWITCHBOARD,
    Launcher,
    Layout,
)

_TOTAL = re.compile(r"^totals:\s+(\d+)", re.M)  # "summary" is off after a zeroing


def count(server: Server, requests: int, warmup: int, dump_dir: Path, body: bytes = BODY) -> float:
    """Instructions per request, counted over `requests` after `warmup` uncounted ones."""
    assert server.proc is not None
    for _ in range(warmup):
        post(server.port, PATH, body, timeout=60, headers=server.headers)
    pid = str(server.proc.pid)
    _control("-i", "on", pid)
    for _ in range(5):  # code instrumented just now: its first runs are not the steady state
        post(server.port, PATH, body, timeout=60, headers=server.headers)
    _control("-z", pid)
    for _ in range(requests):
        status, reply = post(server.port, PATH, body, timeout=60, headers=server.headers)
        if status != 200:
            raise RuntimeError(f"{server.name}: HTTP {status}: {reply[:200]!r}")
    _control("-i", "off", pid)
    before = set(dump_dir.glob(f"cg.{pid}*"))
    _control("-d", pid)
    dumps = sorted(set(dump_dir.glob(f"cg.{pid}*")) - before) or sorted(dump_dir.glob(f"cg.{pid}*"))
    found = _TOTAL.search(dumps[-1].read_text(errors="replace"))
    if found is None:
        raise RuntimeError(f"no instruction total in {dumps[-1]}")
    return int(found.group(1)) / requests


def _control(*args: str) -> None:
    subprocess.run(["callgrind_control", *args], check=True, capture_output=True, timeout=120)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--targets", default=f"{FORWARDER},{SWITCHBOARD},{FULL}")
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--warmup", type=int, default=50)
    p.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="for sb+full")
    p.add_argument("--switchboard-src", type=Path, help="another checkout to measure")
    p.add_argument("--stream", action="store_true", help="streamed requests (16 SSE chunks)")
    args = p.parse_args(argv)
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("valgrind is not installed (apt-get install -y valgrind)", file=sys.stderr)
        return 2
    wanted = args.targets.split(",")
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))  # stop the fleet
    with tempfile.TemporaryDirectory(prefix="sb-instr-") as name, Fleet() as fleet:
        tmp = Path(name)
        launcher = Launcher(fleet, Layout(None, None), tmp, args.switchboard_src)
        mock = launcher.mock(16)
        launcher.wrap = [
            "valgrind", "--tool=callgrind", "--instr-atstart=no",
            f"--callgrind-out-file={tmp}/cg.%p",
        ]  # fmt: skip
        launcher.patience = 20
        for target in wanted:
            if target == FORWARDER:
                server = launcher.forwarder(mock)
            elif target == SWITCHBOARD:
                server = launcher.switchboard(mock)
            elif target == FULL:
                server, _ = launcher.switchboard_with_keys(
                    mock, args.redis, budget=True, concurrency=True
                )
            else:
                raise SystemExit(f"unknown target {target!r}")
            body = STREAM_BODY if args.stream else BODY
            per_request = count(server, args.requests, args.warmup, tmp, body)
            print(f"{target:<12} {per_request / 1e6:8.2f} M instructions/request", flush=True)
            server.stop()  # one proxy under valgrind at a time
    return 0


if __name__ == "__main__":
    sys.exit(main())
