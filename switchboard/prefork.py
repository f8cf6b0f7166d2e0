"""`switchboard serve --workers N`: N gateway processes on one listening socket.

The supervisor binds the socket, then forks the workers (each builds its own app, pools and event
loop after the fork) and waits. State the workers must share (rate limits, budgets, concurrency
slots, conversations) lives in Redis, so more than one worker requires `SWITCHBOARD_REDIS_URL`;
API keys and usage live in the database every worker opens. Prometheus metrics go through
prometheus_client's multiprocess mode (`PROMETHEUS_MULTIPROC_DIR`, a fresh temporary folder
unless set): each scrape, whichever worker answers it, sums every worker's files, so counters
never go backwards.

SIGTERM (or SIGINT) closes the supervisor's copy of the socket and is passed to every worker,
which stops accepting and finishes the requests and streams in flight within
`graceful_shutdown_s`; a worker still running after that (plus a margin) is killed. A worker
that dies on its own is started again, unless it failed while starting (then all stop).
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from switchboard.config import Settings

log = logging.getLogger("switchboard.server")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
KILL_MARGIN_S = 5.0  # after the grace period, before a worker is killed


def worker_count(value: str) -> int:
    """`--workers`: a positive number, or "auto" for one per usable core."""
    if value == "auto":
        return max(1, len(os.sched_getaffinity(0)))
    count = int(value)
    if count < 1:
        raise ValueError("--workers must be at least 1 (or auto)")
    return count


def shared_state_problem(settings: Settings, workers: int) -> str | None:
    """Why `workers` processes could not serve correctly with these settings, if they cannot."""
    if workers > 1 and settings.redis_url is None:
        return (
            f"--workers {workers} needs shared state: set SWITCHBOARD_REDIS_URL (rate limits, "
            "budgets, concurrency slots and conversations would otherwise be counted per worker)"
        )
    return None


def prepare_metrics_dir() -> tuple[Path, bool]:
    """Point prometheus_client at an empty multiprocess folder (before any metric exists);
    returns the folder and whether it was made here (and is removed at exit)."""
    given = os.environ.get(MULTIPROC_ENV)
    folder = Path(given) if given else Path(tempfile.mkdtemp(prefix="switchboard-metrics-"))
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):  # a previous run's figures would be summed in
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(folder)
    if "prometheus_client.values" in sys.modules:  # imported already: metrics made from now on
        from prometheus_client import values  # (in the workers) must write to the folder

        values.ValueClass = values.get_value_class()
    return folder, not given


def bind(settings: Settings) -> socket.socket:
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((settings.host, settings.port))
    sock.listen(settings.backlog)
    sock.set_inheritable(True)
    return sock


class Supervisor:
    """Forks the workers, restarts one that dies, and stops them all on SIGTERM/SIGINT."""

    def __init__(
        self,
        settings: Settings,
        workers: int,
        run_worker: Callable[[list[socket.socket]], int],
        startup_failure: int,
    ) -> None:
        self._settings = settings
        self._workers = workers
        self._run_worker = run_worker
        self._startup_failure = startup_failure
        self._children: dict[int, float] = {}  # pid -> started at
        self._sock: socket.socket | None = None
        self._stopping = False
        self._deadline = float("inf")

    def run(self) -> int:
        self._sock = bind(self._settings)
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        log.info("serving on %s:%d with %d workers", self._settings.host,
                 self._settings.port, self._workers)  # fmt: skip
        try:
            for _ in range(self._workers):
                self._fork()
            return self._wait()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._close_socket()

    def _fork(self) -> None:
        assert self._sock is not None
        pid = os.fork()
        if pid == 0:  # the worker: default signals (uvicorn installs its own), then serve
            code = 1
            try:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    signal.signal(sig, signal.SIG_DFL)
                code = self._run_worker([self._sock])
            finally:
                os._exit(code)
        self._children[pid] = time.monotonic()

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        if self._stopping:
            return
        self._stopping = True
        self._close_socket()  # new connections are refused once the workers close theirs too
        self._deadline = time.monotonic() + self._settings.graceful_shutdown_s + KILL_MARGIN_S
        for pid in self._children:
            _signal(pid, signal.SIGTERM)

    def _wait(self) -> int:
        code = 0
        while self._children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                if self._stopping and time.monotonic() > self._deadline:
                    for child in self._children:
                        _signal(child, signal.SIGKILL)
                time.sleep(0.05)
                continue
            started = self._children.pop(pid)
            exit_code = os.waitstatus_to_exitcode(status)
            _mark_dead(pid)
            if self._stopping:
                code = code or exit_code
            elif exit_code == self._startup_failure:
                log.error("a worker failed to start (exit %d): stopping", exit_code)
                self._stop(signal.SIGTERM, None)
                code = exit_code
            else:
                log.warning("worker %d exited (%d) after %.0f s: starting another", pid,
                            exit_code, time.monotonic() - started)  # fmt: skip
                self._fork()
        return code

    def _close_socket(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _mark_dead(pid: int) -> None:
    """Drop a dead worker's live gauges (its counters stay: they never go backwards)."""
    if MULTIPROC_ENV in os.environ:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def serve_workers(
    settings: Settings,
    workers: int,
    run_worker: Callable[[list[socket.socket]], int],
    startup_failure: int,
) -> int:
    """Run `workers` processes until SIGTERM/SIGINT; the supervisor's exit status."""
    folder, made_here = prepare_metrics_dir()
    try:
        return Supervisor(settings, workers, run_worker, startup_failure).run()
    finally:
        if made_here:
            shutil.rmtree(folder, ignore_errors=True)
