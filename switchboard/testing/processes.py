"""Real processes for tests and benchmarks: a throwaway Redis, the mock upstream, the gateway.

Each runs as its own OS process on a free loopback port, so tests see exactly what users see
(`switchboard serve` started from the command line) and may kill and restart it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(
    port: int, timeout_s: float = 20.0, proc: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on port {port} after {timeout_s} s")


class RedisProcess:
    """A redis-server of the test's own on a free port, which a test may kill and restart."""

    def __init__(
        self, port: int | None = None, binary: str = "redis-server", extra_args: Sequence[str] = ()
    ) -> None:
        if shutil.which(binary) is None:
            raise RuntimeError(f"{binary} is not installed")
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._binary = binary
        self._extra = list(extra_args)
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = ["--port", str(self.port), "--save", "", "--appendonly", "no", "--daemonize", "no"]
        args += ["--bind", "127.0.0.1", "--enable-debug-command", "local", *self._extra]
        self._proc = subprocess.Popen(
            [self._binary, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_port(self.port, 15, self._proc)

    def kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(timeout=10)
            self._proc = None

    def restart(self) -> None:
        self.kill()
        self.start()


class ServiceProcess:
    """A `switchboard` sub-command run as a process (`serve`, `mock-provider`)."""

    def __init__(
        self,
        args: list[str],
        port: int,
        env: Mapping[str, str] | None = None,
        log: Path | None = None,
    ) -> None:
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self._args = args
        self._env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            **(env or {}),
        }
        self._log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 60.0) -> None:
        out = open(self._log, "ab") if self._log is not None else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "switchboard.cli", *self._args],
            env=self._env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port, timeout_s, self.proc)

    def stop(self, timeout_s: float = 15.0) -> int | None:
        if self.proc is None:
            return None
        self.proc.terminate()
        try:
            code = self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(timeout=10)
        self.proc = None
        return code

    def log_text(self) -> str:
        return self._log.read_text(errors="replace") if self._log and self._log.exists() else ""


def mock_provider_process(tokens: int = 8, log: Path | None = None) -> ServiceProcess:
    port = free_port()
    args = ["mock-provider", "--host", "127.0.0.1", "--port", str(port), "--tokens", str(tokens)]
    return ServiceProcess(args, port, log=log)


def gateway_process(
    config: Path, env: Mapping[str, str], log: Path | None = None
) -> ServiceProcess:
    """`switchboard serve --config FILE` with SWITCHBOARD_* settings from `env`."""
    port = free_port()
    args = ["serve", "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
    return ServiceProcess(
        args, port, env={"SWITCHBOARD_PRELOAD_LOCAL_MODEL": "false", **env}, log=log
    )


def wait_healthy(base_url: str, timeout_s: float = 30.0, path: str = "/health") -> None:
    """Until `path` answers 200 (`/ready`: until the deployments, local weights included, are)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}{path}", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{base_url}{path} did not answer 200 in {timeout_s} s")


class StreamReader:
    """Reads one streamed chat completion in a thread, keeping its `data:` lines (for tests
    that act on a server while a stream is in flight, e.g. a SIGTERM)."""

    def __init__(self, url: str, body: Mapping[str, object], timeout_s: float = 30) -> None:
        self.lines: list[str] = []
        self.errors: list[BaseException] = []
        self.status: int | None = None
        self._first = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(url, body, timeout_s))

    def start(self, first_within_s: float = 10) -> bool:
        """Start reading; True once the first event arrived (False if none came in time)."""
        self._thread.start()
        return self._first.wait(first_within_s) and not self.errors

    def join(self, timeout_s: float = 5) -> None:
        self._thread.join(timeout_s)

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def _read(self, url: str, body: Mapping[str, object], timeout_s: float) -> None:
        try:
            with httpx.stream("POST", url, json=dict(body), timeout=timeout_s) as resp:
                self.status = resp.status_code
                for line in resp.iter_lines():
                    if line.startswith("data: "):
                        self.lines.append(line)
                        self._first.set()
        except BaseException as exc:  # reported by the test's thread
            self.errors.append(exc)
        finally:
            self._first.set()
