"""The embedded vector index: in-process HNSW graphs (usearch), one per namespace, on disk.

- Namespaces are separate graphs, so a search cannot reach another owner's entries at all.
- Entries may expire (`ttl_s`, absolute wall-clock times, so they survive a restart); expired
  entries are never returned and are dropped by a sweep on every add and count.
- Size bound: `max_entries` over all namespaces; the oldest entry (by insertion) goes first. Not
  LRU: a search never refreshes an entry, so a popular but stale answer still ages out.
- Persistence (`path`): `save()` writes every graph and its ids to one file (a temporary file,
  fsync, then an atomic rename), `load()` reads it back at start-up; `aclose()` saves.

Searches run on the event loop (about a millisecond of CPU at a million entries); a large
`add` and the serialisation for `save()` run on one worker thread. Mutations take a lock, and a
search waits only while a large add is running.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from usearch.index import Index

from switchboard.embeddings.base import Vectors
from switchboard.vectors import snapshot
from switchboard.vectors.base import Match, as_rows, entry_rows

log = logging.getLogger(__name__)

INLINE_ADD = 64  # adds up to this many vectors run on the event loop, larger ones on the worker
SEARCH_SLACK = 4  # extra neighbours asked for, so expired ones can be skipped in one pass


@dataclass(frozen=True, slots=True)
class HnswOptions:
    """Graph parameters: `connectivity` (M), expansion at insert and at search, element type."""

    dimensions: int = 384
    max_entries: int = 100_000
    connectivity: int = 16
    expansion_add: int = 128
    # 128, not 64: on MiniLM embeddings of 1M questions it halves the true nearest neighbours
    # missed (recall@1 0.987 -> 0.993) for ~0.1-0.4 ms more CPU per search, p99 still under
    # 2 ms (docs/benchmarks.md, "Recall on real embeddings"); connectivity 32 bought no more.
    expansion_search: int = 128
    dtype: str = "f16"  # half the memory of f32; scores stay within ~1e-3


@dataclass(slots=True)
class Space:
    """One namespace: its graph and the two-way map between caller ids and graph keys."""

    index: Index
    keys: dict[str, int] = field(default_factory=dict)
    ids: dict[int, str] = field(default_factory=dict)
    expires: dict[int, float] = field(default_factory=dict)


class HnswIndex:
    """VectorIndex in process memory, optionally persisted to `path`."""

    def __init__(
        self,
        options: HnswOptions | None = None,
        *,
        path: Path | None = None,
        save_every_s: float = 0.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.options = options or HnswOptions()
        self.path = path
        self._save_every_s = save_every_s
        self._saver: asyncio.Task[None] | None = None
        self._opened: asyncio.Future[None] | None = None
        self._dirty = False
        self.evictions = 0  # entries dropped by the size bound
        self._clock = clock
        self._spaces: dict[str, Space] = {}
        self._order: OrderedDict[tuple[str, int], None] = OrderedDict()  # oldest first
        self._deadlines: list[tuple[float, str, int]] = []  # a heap of (expires_at, ns, key)
        self._next_key = 0
        self._lock = asyncio.Lock()
        self._bulk = 0  # large adds running on the worker: searches wait for them
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vector-index")

    # -- the VectorIndex protocol

    async def add(
        self, namespace: str, ids: list[str], vectors: Vectors, ttl_s: float | None = None
    ) -> None:
        if self._opened is None or not self._opened.done():
            await self.open()
        rows = entry_rows(ids, vectors, self.options.dimensions)
        if not ids:
            return
        expires = None if ttl_s is None else self._clock() + ttl_s
        async with self._lock:
            self._remove_ids(namespace, ids)
            keys = np.arange(self._next_key, self._next_key + len(ids), dtype=np.uint64)
            self._next_key += len(ids)
            space = self._space(namespace)
            if len(ids) <= INLINE_ADD:
                space.index.add(keys, rows, threads=1)
            else:
                self._bulk += 1
                try:
                    await asyncio.get_running_loop().run_in_executor(
                        self._worker, lambda: space.index.add(keys, rows)
                    )
                finally:
                    self._bulk -= 1
            self._register(namespace, space, ids, [int(k) for k in keys], expires)
            self._dirty = True
            self._sweep()
            self._evict()

    async def search(self, namespace: str, vector: Vectors, k: int = 1) -> list[Match]:
        if self._opened is None or not self._opened.done():
            await self.open()
        if self._bulk:
            async with self._lock:
                return self._search(namespace, vector, k)
        return self._search(namespace, vector, k)

    async def remove(self, namespace: str, ids: list[str]) -> None:
        if self._opened is None or not self._opened.done():
            await self.open()
        async with self._lock:
            self._remove_ids(namespace, ids)
            self._dirty = True

    async def clear(self, namespace: str | None = None) -> int:
        if self._opened is None or not self._opened.done():
            await self.open()
        async with self._lock:
            names = list(self._spaces) if namespace is None else [namespace]
            dropped = 0
            for name in names:
                space = self._spaces.pop(name, None)
                if space is None:
                    continue
                dropped += len(space.keys)
                for key in space.ids:
                    self._order.pop((name, key), None)
            self._dirty = True
            return dropped

    async def count(self, namespace: str | None = None) -> int:
        if self._opened is None or not self._opened.done():
            await self.open()
        async with self._lock:
            self._sweep()
            if namespace is not None:
                space = self._spaces.get(namespace)
                return 0 if space is None else len(space.keys)
            return sum(len(space.keys) for space in self._spaces.values())

    async def aclose(self) -> None:
        if self._saver is not None:
            self._saver.cancel()
            await asyncio.gather(self._saver, return_exceptions=True)
            self._saver = None
        if self.path is not None and self._dirty:
            await self.save()
        self._worker.shutdown(wait=False)

    async def open(self) -> None:
        """Load `path` and, if `save_every_s` > 0, save every so often while changed. The first
        operation opens an index nobody opened, so building one needs no event loop."""
        if self._opened is None:
            self._opened = asyncio.ensure_future(self._open())
        await asyncio.shield(self._opened)

    async def _open(self) -> None:
        try:
            await self.load()
        except Exception as exc:  # a damaged or truncated file must not stop the gateway
            log.error("vector index %s unreadable, starting empty: %s", self.path, exc)
        if self.path is not None and self._save_every_s > 0 and self._saver is None:
            self._saver = asyncio.create_task(self._save_periodically())

    async def _save_periodically(self) -> None:
        while True:
            await asyncio.sleep(self._save_every_s)
            if self._dirty:
                try:
                    await self.save()
                except OSError as exc:
                    log.error("vector index %s not saved: %s", self.path, exc)

    # -- persistence

    async def save(self) -> None:
        """Write the whole index to `path` (atomically); a no-op without a path."""
        if self.path is None:
            return
        path = self.path
        loop = asyncio.get_running_loop()
        async with self._lock:  # mutations wait while the graphs are serialised
            self._sweep()
            state = snapshot.State(
                dimensions=self.options.dimensions,
                next_key=self._next_key,
                order=list(self._order),
                spaces={
                    name: snapshot.SpaceState(space.index, dict(space.ids), dict(space.expires))
                    for name, space in self._spaces.items()
                },
            )
            arrays = await loop.run_in_executor(self._worker, snapshot.encode, state)
            self._dirty = False
        await loop.run_in_executor(self._worker, snapshot.write, path, arrays)

    async def load(self) -> int:
        """Read `path` if it exists (entries already expired are dropped); returns the count."""
        if self.path is None or not self.path.exists():
            return 0
        path = self.path
        async with self._lock:
            o = self.options
            state = await asyncio.get_running_loop().run_in_executor(
                self._worker, snapshot.read, path, o.expansion_add, o.expansion_search
            )
            if state.dimensions != self.options.dimensions:
                log.warning(
                    "vector index %s holds %d-dim vectors, %d expected: starting empty",
                    path,
                    state.dimensions,
                    self.options.dimensions,
                )
                return 0
            self._restore(state)
            self._sweep()
            self._evict()
            return sum(len(space.keys) for space in self._spaces.values())

    # -- internals

    def _rows(self, vectors: Vectors) -> Vectors:
        return as_rows(vectors, self.options.dimensions)

    def _new_graph(self) -> Index:
        o = self.options
        return Index(
            ndim=o.dimensions,
            metric="ip",
            dtype=o.dtype,
            connectivity=o.connectivity,
            expansion_add=o.expansion_add,
            expansion_search=o.expansion_search,
        )

    def _space(self, namespace: str) -> Space:
        space = self._spaces.get(namespace)
        if space is None:
            space = self._spaces[namespace] = Space(self._new_graph())
        return space

    def _register(
        self, namespace: str, space: Space, ids: list[str], keys: list[int], expires: float | None
    ) -> None:
        for entry_id, key in zip(ids, keys, strict=True):
            space.keys[entry_id] = key
            space.ids[key] = entry_id
            self._order[(namespace, key)] = None
            if expires is not None:
                space.expires[key] = expires
                heapq.heappush(self._deadlines, (expires, namespace, key))

    def _search(self, namespace: str, vector: Vectors, k: int) -> list[Match]:
        space = self._spaces.get(namespace)
        if space is None or not space.keys or k < 1:
            return []
        query = self._rows(vector)[0]
        now = self._clock()
        wanted = min(k + SEARCH_SLACK, len(space.keys))
        found = space.index.search(query, wanted, threads=1)
        matches = []
        for key, distance in zip(found.keys.tolist(), found.distances.tolist(), strict=True):
            entry_id = space.ids.get(key)
            if entry_id is None or space.expires.get(key, math.inf) <= now:
                continue
            matches.append(Match(entry_id, 1.0 - float(distance)))
            if len(matches) == k:
                break
        return matches

    def _remove_ids(self, namespace: str, ids: list[str]) -> None:
        space = self._spaces.get(namespace)
        if space is None:
            return
        for entry_id in ids:
            key = space.keys.get(entry_id)
            if key is not None:
                self._drop(namespace, space, key)

    def _drop(self, namespace: str, space: Space, key: int) -> None:
        space.index.remove(key)
        del space.keys[space.ids.pop(key)]
        space.expires.pop(key, None)
        self._order.pop((namespace, key), None)
        if not space.keys:
            del self._spaces[namespace]  # a fresh graph next time; no tombstones kept

    def _sweep(self) -> None:
        """Drop every entry whose deadline has passed."""
        now = self._clock()
        while self._deadlines and self._deadlines[0][0] <= now:
            expires, namespace, key = heapq.heappop(self._deadlines)
            space = self._spaces.get(namespace)
            if space is not None and space.expires.get(key) == expires:
                self._drop(namespace, space, key)

    def _evict(self) -> None:
        while len(self._order) > self.options.max_entries:
            namespace, key = next(iter(self._order))
            self._drop(namespace, self._spaces[namespace], key)
            self.evictions += 1

    def _restore(self, state: snapshot.State) -> None:
        self._spaces.clear()
        self._order.clear()
        self._deadlines.clear()
        for name, saved in state.spaces.items():
            space = Space(saved.index)
            for key, entry_id in saved.ids.items():
                space.keys[entry_id] = key
                space.ids[key] = entry_id
            space.expires = dict(saved.expires)
            for key, expires in saved.expires.items():
                self._deadlines.append((expires, name, key))
            self._spaces[name] = space
        heapq.heapify(self._deadlines)
        self._order.update((entry, None) for entry in state.order)
        self._next_key = state.next_key
