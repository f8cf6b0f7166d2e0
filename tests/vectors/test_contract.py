"""One contract for every VectorIndex: the embedded HNSW and the Redis one behave alike."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from tests.vectors.conftest import Factory, near, unit


@pytest.fixture(params=["hnsw", "redis"])
def make_index(request: pytest.FixtureRequest) -> Factory:
    factory: Factory = request.getfixturevalue(f"{request.param}_factory")
    return factory


async def test_finds_the_nearest_entries_best_first(make_index: Factory) -> None:
    index = make_index()
    vectors = unit(1, 50)
    await index.add("t1", [f"e{i}" for i in range(50)], vectors)
    matches = await index.search("t1", near(vectors[7], 2), k=3)
    assert matches[0].id == "e7" and matches[0].score > 0.6
    assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)
    exact = await index.search("t1", vectors[12][None, :], k=1)
    assert exact[0].id == "e12" and exact[0].score == pytest.approx(1.0, abs=2e-3)
    assert len(await index.search("t1", vectors[0], k=100)) == 50  # no more than it holds


async def test_namespaces_never_see_each_other(make_index: Factory) -> None:
    index = make_index()
    same = unit(3)
    await index.add("tenant-a", ["shared-id"], same)
    assert await index.search("tenant-b", same, k=5) == []
    await index.add("tenant-b", ["shared-id", "b-only"], np.vstack([unit(4), unit(5)]))
    found_b = await index.search("tenant-b", same, k=5)
    assert {m.id for m in found_b} == {"shared-id", "b-only"}
    assert all(m.score < 0.5 for m in found_b)  # B's own vectors, not A's exact copy
    assert (await index.search("tenant-a", same, k=5))[0].score == pytest.approx(1.0, abs=2e-3)
    assert await index.count("tenant-a") == 1 and await index.count("tenant-b") == 2
    assert await index.clear("tenant-b") == 2
    assert await index.count("tenant-b") == 0 and await index.count("tenant-a") == 1


async def test_add_replaces_an_id_and_remove_drops_it(make_index: Factory) -> None:
    index = make_index()
    first, second = unit(6), unit(7)
    await index.add("t", ["x", "y"], np.vstack([first, unit(8)]))
    await index.add("t", ["x"], second)
    assert await index.count("t") == 2
    assert (await index.search("t", second))[0].id == "x"
    assert all(m.id != "x" or m.score < 0.5 for m in await index.search("t", first, k=2))
    await index.remove("t", ["x", "never-added"])
    await index.remove("other", ["x"])
    assert await index.count("t") == 1
    assert [m.id for m in await index.search("t", second, k=5)] == ["y"]


async def test_clear_all_and_count_all(make_index: Factory) -> None:
    index = make_index()
    await index.add("a", ["1", "2"], unit(9, 2))
    await index.add("b", ["1"], unit(10))
    assert await index.count() == 3
    assert await index.clear() == 3
    assert await index.count() == 0
    assert await index.search("a", unit(9)[0]) == []


async def test_entries_expire_after_their_ttl(make_index: Factory) -> None:
    index = make_index()
    short, kept = unit(11), unit(12)
    await index.add("t", ["short"], short, ttl_s=0.3)
    await index.add("t", ["kept"], kept)
    assert (await index.search("t", short))[0].id == "short"
    await asyncio.sleep(0.8)
    assert [m.id for m in await index.search("t", short, k=5)] == ["kept"]
    assert await index.count("t") == 1


async def test_a_hit_does_not_extend_the_ttl(make_index: Factory) -> None:
    index = make_index()
    vector = unit(13)
    await index.add("t", ["e"], vector, ttl_s=0.6)
    for _ in range(4):
        assert (await index.search("t", vector))[0].id == "e"
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.6)
    assert await index.search("t", vector) == []


async def test_the_oldest_entries_are_evicted_past_the_bound(make_index: Factory) -> None:
    index = make_index(max_entries=5)
    vectors = unit(14, 8)
    for i in range(8):
        await index.add("a" if i % 2 else "b", [f"e{i}"], vectors[i])
    assert await index.count() == 5
    left = set()
    for i in range(8):
        for match in await index.search("a" if i % 2 else "b", vectors[i], k=1):
            if match.score > 0.99:
                left.add(match.id)
    assert left == {f"e{i}" for i in range(3, 8)}


async def test_bad_vectors_are_refused(make_index: Factory) -> None:
    index = make_index()
    with pytest.raises(ValueError):
        await index.add("t", ["a"], np.ones((1, 10), dtype=np.float32))
    with pytest.raises(ValueError):
        await index.add("t", ["a", "b"], unit(15))
