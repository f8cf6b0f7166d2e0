"""The embedded index's own promises: persistence across restarts, bulk adds off the loop."""

from __future__ import annotations

import asyncio
from pathlib import Path

from switchboard.vectors.hnsw import HnswIndex, HnswOptions
from tests.vectors.conftest import DIM, Factory, near, unit


async def test_a_restart_keeps_entries_deadlines_and_eviction_order(tmp_path: Path) -> None:
    path = tmp_path / "index" / "vectors.npz"
    options = HnswOptions(dimensions=DIM, max_entries=4)
    first = HnswIndex(options, path=path)
    vectors = unit(20, 4)
    await first.add("a", ["old", "ünïcode id"], vectors[:2])
    await first.add("b", ["ttl"], vectors[2], ttl_s=0.5)
    await first.add("b", ["newer"], vectors[3])
    await first.aclose()  # saves
    assert [p.name for p in path.parent.iterdir()] == ["vectors.npz"]  # no temporary left

    second = HnswIndex(options, path=path)
    assert await second.load() == 4
    assert (await second.search("a", near(vectors[1], 1)))[0].id == "ünïcode id"
    assert {m.id for m in await second.search("a", vectors[2], k=5)} == {"old", "ünïcode id"}
    await second.add("a", ["newest"], unit(21))  # over the bound: the oldest goes first
    assert [m.id for m in await second.search("a", vectors[0], k=5) if m.score > 0.99] == []
    await asyncio.sleep(0.6)
    assert await second.count("b") == 1  # the deadline survived the restart
    await second.aclose()


async def test_load_without_a_file_and_with_another_dimension(tmp_path: Path) -> None:
    path = tmp_path / "v.npz"
    assert await HnswIndex(HnswOptions(dimensions=DIM), path=path).load() == 0
    small = HnswIndex(HnswOptions(dimensions=8), path=path)
    await small.add("t", ["x"], unit(1)[:, :8])
    await small.save()
    other = HnswIndex(HnswOptions(dimensions=DIM), path=path)
    assert await other.load() == 0  # refused, not mixed in


async def test_a_large_add_runs_off_the_loop_and_is_searchable(hnsw_factory: Factory) -> None:
    index = hnsw_factory(max_entries=5000)
    vectors = unit(22, 2000)
    await index.add("t", [str(i) for i in range(2000)], vectors)
    assert await index.count("t") == 2000
    hits = 0
    for i in range(0, 2000, 40):
        hits += (await index.search("t", near(vectors[i], i)))[0].id == str(i)
    assert hits >= 48  # HNSW is approximate, but not by much at this size


async def test_evictions_are_counted(hnsw_factory: Factory) -> None:
    index = hnsw_factory(max_entries=3)
    await index.add("t", [str(i) for i in range(5)], unit(23, 5))
    assert isinstance(index, HnswIndex) and index.evictions == 2


async def test_it_saves_itself_while_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "auto.npz"
    index = HnswIndex(HnswOptions(dimensions=DIM), path=path, save_every_s=0.1)
    await index.add("t", ["x"], unit(24))  # opens the index: the saver starts
    await asyncio.sleep(0.5)
    assert path.is_file()
    saved = path.stat().st_mtime_ns
    await asyncio.sleep(0.3)
    assert path.stat().st_mtime_ns == saved  # unchanged since: not written again
    path.write_bytes(path.read_bytes()[:100])  # truncated
    damaged = HnswIndex(HnswOptions(dimensions=DIM), path=path)
    assert await damaged.count() == 0
    await index.aclose()
    await damaged.aclose()
