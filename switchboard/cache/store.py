"""Where stored replies live: the `ReplyStore` protocol and its in-process implementation.

Entries are filed under (scope, model, key): the scope is the owner (a tenant, or `global`
when a model shares its cache), so clearing a tenant or a model is one call, and no lookup can
name another scope's entry. Expiry is fixed when an entry is written: reading it (a hit) never
extends it, so a popular but stale answer still ages out. redis_store.py shares one store
between replicas.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

EntryKey = tuple[str, str, str]  # (scope, model, key)


class ReplyStore(Protocol):
    async def get(self, scope: str, model: str, key: str) -> bytes | None:
        """The entry, or None when absent or expired."""

    async def put(self, scope: str, model: str, key: str, blob: bytes, ttl_s: float) -> None: ...

    async def delete(self, scope: str, model: str, key: str) -> bool: ...

    async def clear(self, scope: str | None = None, model: str | None = None) -> int:
        """Drop the entries of a scope, a model, both, or (neither) all; returns how many."""

    async def count(self) -> int: ...

    async def aclose(self) -> None: ...


@dataclass(slots=True)
class _Slot:
    expires_at: float
    blob: bytes


class InMemoryReplyStore:
    """Bounded by count and bytes; the least recently used entry goes first."""

    def __init__(
        self,
        max_entries: int,
        max_bytes: int,
        clock: Callable[[], float] = time.monotonic,
        on_evict: Callable[[int], None] | None = None,
    ) -> None:
        self._max = max_entries
        self._max_bytes = max_bytes
        self._clock = clock
        self._on_evict = on_evict
        self._bytes = 0
        self._data: OrderedDict[EntryKey, _Slot] = OrderedDict()
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._data)

    async def get(self, scope: str, model: str, key: str) -> bytes | None:
        k = (scope, model, key)
        slot = self._data.get(k)
        if slot is None:
            return None
        if slot.expires_at <= self._clock():
            self._pop(k)
            return None
        self._data.move_to_end(k)
        return slot.blob

    async def put(self, scope: str, model: str, key: str, blob: bytes, ttl_s: float) -> None:
        k = (scope, model, key)
        self._pop(k)
        self._data[k] = _Slot(self._clock() + ttl_s, blob)
        self._bytes += len(blob)
        evicted = 0
        while len(self._data) > self._max or self._bytes > self._max_bytes:
            _, slot = self._data.popitem(last=False)
            self._bytes -= len(slot.blob)
            evicted += 1
        if evicted:
            self.evictions += evicted
            if self._on_evict is not None:
                self._on_evict(evicted)

    async def delete(self, scope: str, model: str, key: str) -> bool:
        return self._pop((scope, model, key))

    async def clear(self, scope: str | None = None, model: str | None = None) -> int:
        doomed = [
            k
            for k in self._data
            if (scope is None or k[0] == scope) and (model is None or k[1] == model)
        ]
        for k in doomed:
            self._pop(k)
        return len(doomed)

    async def count(self) -> int:
        now = self._clock()
        for k in [k for k, s in self._data.items() if s.expires_at <= now]:
            self._pop(k)
        return len(self._data)

    async def aclose(self) -> None:
        self._data.clear()
        self._bytes = 0

    def _pop(self, k: EntryKey) -> bool:
        slot = self._data.pop(k, None)
        if slot is None:
            return False
        self._bytes -= len(slot.blob)
        return True
