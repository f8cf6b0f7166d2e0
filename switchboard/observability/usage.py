"""UsageRecorder: subscribes to RequestFinished and writes per-key usage rows in batches.

Requests never wait on the database: rows gather in memory and a background task flushes
them every `interval_s` (and at shutdown). The store aggregates per (key, model, day).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from switchboard.keys.models import UsageRow
from switchboard.observability.events import RequestFinished

if TYPE_CHECKING:
    from switchboard.keys.store import KeyStore

log = logging.getLogger("switchboard.usage")
_HITS = ("hit-exact", "hit-semantic")
BOOKED_WITH_RESULT = "batch.chat.completions"
"""Batch lines book their usage with their result, in one transaction (jobs/batch_store.py),
so that a line run again after a lost worker is never booked twice: not recorded here."""


class UsageRecorder:
    def __init__(
        self, store: KeyStore, interval_s: float = 1.0, max_pending: int = 100_000
    ) -> None:
        self._store = store
        self._interval = interval_s
        self._max_pending = max_pending
        self._pending: list[UsageRow] = []
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def request_started(self, endpoint: str) -> None:
        pass

    def request_finished(self, event: RequestFinished) -> None:
        if event.key_id is None or event.tenant is None or event.endpoint == BOOKED_WITH_RESULT:
            return
        if event.status >= 400 and not (event.usage and event.usage.total_tokens):
            return  # refused or failed without consuming tokens: nothing to bill
        if len(self._pending) >= self._max_pending:
            self.dropped += 1  # the database is far behind: keep serving, count the loss
            return
        usage = event.usage
        caller = event.caller
        self._pending.append(
            UsageRow(
                key_id=event.key_id,
                tenant=event.tenant,
                model=event.model,
                day=datetime.now(UTC).date(),
                requests=1,
                prompt_tokens=usage.prompt_tokens if usage else 0,
                completion_tokens=usage.completion_tokens if usage else 0,
                cached_tokens=usage.cached_tokens if usage else 0,
                cost_usd=event.cost_usd,
                cache_hits=int(event.cache in _HITS),
                saved_usd=event.saved_usd,
                session_id=(caller.session_id or "") if caller is not None else "",
                user_id=(caller.user_id or "") if caller is not None else "",
            )
        )

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def flush(self) -> None:
        rows, self._pending = self._pending, []
        if not rows:
            return
        try:
            await self._store.record_usage(rows)
        except Exception:
            log.exception("could not write %d usage rows; will retry", len(rows))
            self._pending[:0] = rows

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.flush()

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()
