"""What runs where: the mock upstream, the forwarder and Switchboard as pinned subprocesses."""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.procs import Fleet, Server, free_port

PATH = "/v1/chat/completions"
DIRECT, FORWARDER, SWITCHBOARD = "direct", "forwarder", "switchboard"
LIMITS = "sb+limits"  # API key with rpm/tpm limits in Redis, usage written to SQLite
BUDGET = "sb+limits+budget"  # the same key with a spend budget too (also in Redis)
FULL = "sb+full"  # RPM + TPM + max concurrency + budget in Redis, usage rows in SQLite
GRANIAN = "sb(granian)"  # plain Switchboard served by granian instead of uvicorn
_MESSAGES = [{"role": "user", "content": "Say hello."}]
BODY = json.dumps({"model": "mock", "messages": _MESSAGES, "max_tokens": 16}).encode()
STREAM_BODY = json.dumps({"model": "mock", "messages": _MESSAGES, "stream": True}).encode()
_REPO = Path(__file__).resolve().parent.parent
_QUIET: dict[str, Any] = {"capture_output": True, "text": True, "check": False}


@dataclass(frozen=True)
class Layout:
    """Which CPU runs what; None everywhere when there is no second core to pin to."""

    server_cpu: str | None
    load_cpu: str | None


def pick_layout(server_cpu: str | None = None, load_cpu: str | None = None) -> Layout:
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2 or shutil.which("taskset") is None:
        print("fewer than 2 usable cores or no taskset: running unpinned", file=sys.stderr)
        return Layout(None, None)
    return Layout(server_cpu or str(cpus[1]), load_cpu or str(cpus[0]))


def _child_env(src: Path | None) -> dict[str, str]:
    """The caller's environment minus SWITCHBOARD_* settings, so the catalogue file decides.

    Children run in the scratch directory, so PYTHONPATH alone picks the code: `src` (another
    checkout, to benchmark a fixed commit while the tree changes) first, then this repository.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    paths = [str(src.resolve()) if src else None, str(_REPO), env.get("PYTHONPATH")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    return env


class Launcher:
    """Starts each server on its core in the scratch directory and waits until it answers."""

    def __init__(self, fleet: Fleet, layout: Layout, tmp: Path, src: Path | None) -> None:
        self.fleet, self.layout, self.tmp = fleet, layout, tmp
        self.env = _child_env(src)
        self.wrap: list[str] = []  # a prefix for the proxies' command lines (e.g. valgrind)
        self.patience = 1.0  # start-up timeouts are multiplied by this

    def _start(
        self, name: str, argv: Callable[[int], list[str]], cpu: str | None, timeout: float
    ) -> Server:
        port = free_port()
        log = self.tmp / f"{name}.log"
        wrap = self.wrap if name != DIRECT else []
        server = Server(name, [*wrap, *argv(port)], port, cpu, log, self.env, self.tmp)
        self.fleet.start(server).wait_ready(PATH, BODY, timeout * self.patience)
        return server

    def mock(self, tokens: int) -> Server:
        """The shipped mock upstream, on the load core beside the client."""
        cli = [sys.executable, "-m", "switchboard.cli", "mock-provider"]
        return self._start(
            DIRECT,
            lambda port: [*cli, "--port", str(port), "--tokens", str(tokens), "--ttft-ms", "0"],
            self.layout.load_cpu,
            timeout=20,
        )

    def forwarder(self, mock: Server) -> Server:
        upstream = ["--upstream", f"http://127.0.0.1:{mock.port}/v1"]
        cli = [sys.executable, "-m", "bench.forwarder", *upstream]
        return self._start(
            FORWARDER, lambda port: [*cli, "--port", str(port)], self.layout.server_cpu, 30
        )

    def _catalogue(self, mock: Server) -> Path:
        catalogue = self.tmp / "catalogue.yaml"
        catalogue.write_text(
            "models:\n  - name: mock\n    deployments:\n      - provider: openai\n"
            f"        model: mock-upstream\n        api_base: http://127.0.0.1:{mock.port}/v1\n"
            "        api_key: sk-bench\n        price: {input: 0.15, output: 0.6}\n"
        )
        return catalogue

    def switchboard_with_keys(
        self,
        mock: Server,
        redis_url: str,
        *,
        budget: bool,
        concurrency: bool = False,
        workers: int = 1,
    ) -> tuple[Server, str]:
        """Switchboard requiring an API key whose limits (budget, concurrency) live in Redis;
        `workers` > 1: `serve --workers N` (named "<target> xN")."""
        name = FULL if concurrency else BUDGET if budget else LIMITS
        if workers > 1:
            name = f"{name} x{workers}"
        env = {
            **self.env,
            "SWITCHBOARD_MASTER_KEY": "bench-master-key",
            "SWITCHBOARD_REDIS_URL": redis_url,
            "SWITCHBOARD_REDIS_PREFIX": f"sbbench:{os.getpid()}:{name}:",
            "SWITCHBOARD_DATABASE_URL": f"sqlite:///{self.tmp / (name + '.db')}",
        }
        spend = ["--budget", "1000000"] if budget else []
        spend += ["--max-concurrency", "1000"] if concurrency else []
        created = subprocess.run(
            [sys.executable, "-m", "switchboard.cli", "keys", "create", "--name", "bench",
             "--tenant", "bench", "--rpm", "100000000", "--tpm", "1000000000", *spend],
            env=env, cwd=self.tmp, **_QUIET,
        )  # fmt: skip
        if created.returncode != 0:
            raise RuntimeError(f"could not create a bench key: {created.stderr}")
        key = json.loads(created.stdout)["key"]
        cli = [
            sys.executable,
            "-m",
            "switchboard.cli",
            "serve",
            "--config",
            str(self._catalogue(mock)),
            "--workers",
            str(workers),
        ]
        port = free_port()
        server = Server(
            name, [*self.wrap, *cli, "--port", str(port)], port,
            self.layout.server_cpu if workers == 1 else None,  # N workers: every core
            self.tmp / f"{name}.log", env, self.tmp, headers={"Authorization": f"Bearer {key}"},
        )  # fmt: skip
        self.fleet.start(server).wait_ready(PATH, BODY, 30 * self.patience)
        return server, key

    def switchboard(self, mock: Server, server: str = "uvicorn") -> Server:
        """Plain Switchboard; `server` "granian" serves the same app with granian instead."""
        catalogue = self.tmp / "catalogue.yaml"
        catalogue.write_text(
            "models:\n  - name: mock\n    deployments:\n      - provider: openai\n"
            f"        model: mock-upstream\n        api_base: http://127.0.0.1:{mock.port}/v1\n"
            "        api_key: sk-bench\n"
        )
        cli = [sys.executable, "-m", "switchboard.cli", "serve", "--config", str(catalogue)]
        name = SWITCHBOARD
        if server != "uvicorn":
            cli += ["--server", server]
            name = GRANIAN if server == "granian" else f"sb({server})"
        return self._start(
            name, lambda port: [*cli, "--port", str(port)], self.layout.server_cpu, 30
        )

    def litellm(self, mock: Server) -> Server | None:
        """LiteLLM's proxy as an optional fourth target, only when it is installed."""
        binary = Path(sys.executable).parent / "litellm"
        if importlib.util.find_spec("litellm") is None or not binary.exists():
            print("litellm is not importable: skipping the LiteLLM proxy row")
            return None
        config = self.tmp / "litellm.yaml"
        config.write_text(
            "model_list:\n  - model_name: mock\n    litellm_params:\n"
            "      model: openai/mock-upstream\n"
            f"      api_base: http://127.0.0.1:{mock.port}/v1\n      api_key: sk-bench\n"
        )
        cli = [str(binary), "--config", str(config), "--host", "127.0.0.1", "--num_workers", "1"]
        try:
            return self._start(
                "litellm", lambda port: [*cli, "--port", str(port)], self.layout.server_cpu, 60
            )
        except RuntimeError as exc:
            print(f"skipping the LiteLLM proxy row: {exc}")
            return None


def start_targets(
    launcher: Launcher,
    tokens: int,
    redis_url: str | None = None,
    granian: bool = False,
    workers: int = 1,
) -> list[Server]:
    """The mock first (the direct target), then each proxy in front of it; each keyed target
    carries its own API key in `Server.headers`."""
    mock = launcher.mock(tokens)
    servers = [mock, launcher.forwarder(mock), launcher.switchboard(mock)]
    if granian:
        servers.append(launcher.switchboard(mock, "granian"))
    if redis_url:
        for budget, concurrency in ((False, False), (True, False), (True, True)):
            keyed, _ = launcher.switchboard_with_keys(
                mock, redis_url, budget=budget, concurrency=concurrency
            )
            servers.append(keyed)
        if workers > 1:
            keyed, _ = launcher.switchboard_with_keys(
                mock, redis_url, budget=True, concurrency=True, workers=workers
            )
            servers.append(keyed)
    optional = launcher.litellm(mock)
    return servers + ([optional] if optional is not None else [])


def _code_version(src: Path | None) -> str:
    """The commit the benchmarked switchboard came from, marked when its files differ from it."""
    where = str(src or _REPO)
    head = subprocess.run(["git", "-C", where, "rev-parse", "--short", "HEAD"], **_QUIET)
    if head.returncode != 0:
        return f"{where} (not a git checkout)"
    dirty = subprocess.run(["git", "-C", where, "status", "--porcelain", "switchboard"], **_QUIET)
    return head.stdout.strip() + (" + uncommitted changes" if dirty.stdout.strip() else "")


def describe_machine(layout: Layout, src: Path | None) -> dict[str, Any]:
    model = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpu_model": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "switchboard": _code_version(src),
        "server_cpu": layout.server_cpu,
        "load_cpu": layout.load_cpu,
        "loadavg_before": [round(x, 2) for x in os.getloadavg()],
    }
