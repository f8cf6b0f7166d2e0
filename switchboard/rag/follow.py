"""IndexFollower: keeps a process-local vector index in step with ingestions that other
processes ran (Celery workers with the embedded index). Before a search, at most once per
`interval_s`, the documents promoted since the last look are read from the store and their
vectors added; a replaced or deleted document's stale entries are harmless (the store's join
drops them from every result) and go at the next restart's refill."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from switchboard.rag.ingest import namespace
from switchboard.rag.store import DocumentStore
from switchboard.vectors.base import VectorIndex

CLOCK_SLACK = timedelta(seconds=5)  # writers' clocks may differ a little from ours


class IndexFollower:
    def __init__(self, store: DocumentStore, index: VectorIndex, interval_s: float = 1.0) -> None:
        self._store = store
        self._index = index
        self._interval_s = interval_s
        self._since: datetime | None = None
        self._checked = 0.0
        self._added: dict[tuple[str, str], int] = {}  # (owner, document) -> version indexed

    def start_from(self, moment: datetime) -> None:
        """Everything promoted before `moment` is in the index already (the start-up refill)."""
        self._since = moment

    async def catch_up(self) -> int:
        """Add what was promoted elsewhere since the last look; returns the chunks added."""
        now = time.monotonic()
        if now - self._checked < self._interval_s:
            return 0
        self._checked = now
        since = None if self._since is None else self._since - CLOCK_SLACK
        added = 0
        for owner, doc_id, version, updated in await self._store.promoted_since(since):
            if self._since is None or updated > self._since:
                self._since = updated
            if self._added.get((owner, doc_id)) == version:
                continue
            ids, vectors = await self._store.vectors(owner, doc_id, version)
            if ids:
                await self._index.add(namespace(owner), ids, vectors)
            self._added[(owner, doc_id)] = version
            added += len(ids)
        return added
