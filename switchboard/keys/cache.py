"""A small TTL cache of authenticated keys, so that most requests skip the database.

It lives in one process: a revocation made here is seen at once, one made by another replica
(or the CLI) is seen when the entry expires, i.e. within the TTL (5 s by default).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from switchboard.keys.models import ApiKey


class KeyCache:
    """key hash -> ApiKey, for `ttl_s` seconds, at most `max_size` entries (least recent out)."""

    def __init__(self, ttl_s: float, max_size: int, clock: Callable[[], float]) -> None:
        self._ttl_s = ttl_s
        self._max_size = max_size
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, ApiKey]] = OrderedDict()

    def get(self, key_hash: str) -> ApiKey | None:
        entry = self._entries.get(key_hash)
        if entry is None:
            return None
        expires, key = entry
        if self._clock() >= expires:
            del self._entries[key_hash]
            return None
        self._entries.move_to_end(key_hash)
        return key

    def put(self, key_hash: str, key: ApiKey) -> None:
        if self._ttl_s <= 0 or self._max_size <= 0:
            return
        self._entries[key_hash] = (self._clock() + self._ttl_s, key)
        self._entries.move_to_end(key_hash)
        while len(self._entries) > self._max_size:
            self._entries.popitem(last=False)

    def forget(self, key_id: str) -> None:
        stale = [h for h, (_, key) in self._entries.items() if key.id == key_id]
        for key_hash in stale:
            del self._entries[key_hash]
