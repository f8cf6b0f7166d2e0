"""Settings pick the vector index: in process (persisted under vector_index_path) or Redis."""

from __future__ import annotations

from pathlib import Path

from switchboard.config import Settings
from switchboard.testing.processes import RedisProcess
from switchboard.vectors.build import build_vector_index, open_vector_index
from switchboard.vectors.hnsw import HnswIndex, HnswOptions
from switchboard.vectors.redis_index import RedisVectorIndex
from tests.vectors.conftest import DIM, unit


async def test_embedded_by_default_and_kept_across_restarts(tmp_path: Path) -> None:
    settings = Settings(vector_index_path=tmp_path, vector_index_max_entries=50)
    index = await open_vector_index(settings, "cache", dimensions=DIM)
    assert isinstance(index, HnswIndex) and index.options.max_entries == 50
    await index.add("tenant", ["q1"], unit(40))
    await index.aclose()
    assert (tmp_path / "cache.npz").is_file()
    reopened = await open_vector_index(settings, "cache", dimensions=DIM)
    assert [m.id for m in await reopened.search("tenant", unit(40))] == ["q1"]
    await reopened.aclose()
    lazy = build_vector_index(settings, "cache", dimensions=DIM)  # no event loop needed
    assert await lazy.count("tenant") == 1  # loaded at its first use
    await lazy.aclose()
    (tmp_path / "cache.npz").write_bytes(b"not an archive")
    damaged = await open_vector_index(settings, "cache", dimensions=DIM)
    assert await damaged.count() == 0  # logged, started empty: the gateway still starts
    await damaged.aclose()


def search_effort(index: HnswIndex, namespace: str) -> int:
    """The ef_search the namespace's usearch graph really runs with."""
    return int(index._spaces[namespace].index.expansion_search)


async def test_the_search_effort_setting_reaches_new_and_restored_graphs(tmp_path: Path) -> None:
    assert Settings().vector_index_ef_search == HnswOptions().expansion_search  # one default
    settings = Settings(vector_index_path=tmp_path, vector_index_ef_search=200)
    index = await open_vector_index(settings, "cache", dimensions=DIM)
    assert isinstance(index, HnswIndex)
    await index.add("tenant", ["q1"], unit(42))
    await index.add("tenant", [str(i) for i in range(100)], unit(43, 100))  # a bulk add
    assert search_effort(index, "tenant") == 200
    await index.aclose()
    reopened = await open_vector_index(settings, "cache", dimensions=DIM)  # from the file
    assert isinstance(reopened, HnswIndex) and search_effort(reopened, "tenant") == 200
    assert [m.id for m in await reopened.search("tenant", unit(42))] == ["q1"]
    await reopened.aclose()
    default = build_vector_index(Settings(), "cache", dimensions=DIM)
    await default.add("tenant", ["q1"], unit(42))
    assert isinstance(default, HnswIndex)
    assert search_effort(default, "tenant") == HnswOptions().expansion_search
    await default.aclose()


async def test_redis_when_a_vector_redis_url_is_set(vector_redis: RedisProcess) -> None:
    settings = Settings(vector_redis_url=vector_redis.url, redis_prefix="sbtest-build:")
    index = await open_vector_index(settings, "rag", dimensions=DIM)
    assert isinstance(index, RedisVectorIndex) and index.index_name == "sbtest-build:rag:idx"
    try:
        await index.add("tenant", ["c1"], unit(41), ttl_s=30)
        assert [m.id for m in await index.search("tenant", unit(41))] == ["c1"]
        assert await index.clear() == 1
    finally:
        await index.aclose()  # closes the backbone it made for itself
