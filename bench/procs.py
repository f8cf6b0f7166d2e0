"""Servers under benchmark as pinned subprocesses: start, wait until ready, measure, always stop.

Linux only: pinning uses `taskset`, memory and CPU come from /proc.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(cpu: str | None, argv: list[str]) -> list[str]:
    """Prefix argv with `taskset -c cpu`; taskset execs, so the PID is the program's own."""
    if cpu is None or shutil.which("taskset") is None:
        return argv
    return ["taskset", "-c", cpu, *argv]


def post(
    port: int, path: str, body: bytes, timeout: float = 5.0, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", path, body, {"Content-Type": "application/json", **(headers or {})})
        reply = conn.getresponse()
        return reply.status, reply.read()
    finally:
        conn.close()


@dataclass
class Server:
    """One server process in its own process group, so that stopping it stops its children."""

    name: str
    argv: list[str]
    port: int
    cpu: str | None
    log: Path
    env: dict[str, str] | None = None
    cwd: Path | None = None
    headers: dict[str, str] | None = None  # sent with every request (e.g. an API key)
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                pinned(self.cpu, self.argv),
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        assert self.proc is not None, f"{self.name} is not started"
        return self.proc.pid

    def wait_ready(self, path: str, body: bytes, timeout: float) -> None:
        """Poll with a real request until it answers 200; fail early if the process died."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited during start-up (log: {self.log.name})")
            try:
                status, reply = post(self.port, path, body, timeout=2.0, headers=self.headers)
                if status == 200:
                    return
                last = f"HTTP {status}: {reply[:200]!r}"
            except OSError as exc:
                last = str(exc)
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} was not ready within {timeout:.0f}s ({last})")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.proc.wait(grace)
                return
            except subprocess.TimeoutExpired:
                continue


class Fleet(AbstractContextManager["Fleet"]):
    """Every server started for one benchmark run; leaving the block stops them all."""

    def __init__(self) -> None:
        self.servers: list[Server] = []

    def start(self, server: Server) -> Server:
        self.servers.append(server)
        server.start()
        return server

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for server in reversed(self.servers):
            server.stop()


def memory_mib(pid: int, key: str = "VmRSS") -> float:
    """A memory figure from /proc/PID/status: VmRSS (resident now) or VmHWM (peak resident)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no {key} for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its live descendants (fields 14 and 15 of
    /proc/PID/stat): a server whose workers are child processes (granian) counts in full."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    own = (int(fields[11]) + int(fields[12])) / _TICKS
    return own + sum(cpu_seconds(child) for child in _children(pid))


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(c) for c in task.read_text().split()]
        except FileNotFoundError:
            continue
    return found


def core_ticks() -> dict[str, tuple[int, int]]:
    """(busy, total) jiffies per CPU from /proc/stat, to see how loaded each core was."""
    ticks: dict[str, tuple[int, int]] = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if name.startswith("cpu") and name != "cpu":
            counts = [int(v) for v in values]
            idle = counts[3] + counts[4]  # idle + iowait
            ticks[name[3:]] = (sum(counts) - idle, sum(counts))
    return ticks


def core_busy(
    before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]
) -> dict[str, float]:
    """Percent busy per CPU between two core_ticks() snapshots."""
    busy = {}
    for cpu, (b1, t1) in after.items():
        b0, t0 = before.get(cpu, (0, 0))
        busy[cpu] = round(100.0 * (b1 - b0) / max(t1 - t0, 1), 1)
    return busy
