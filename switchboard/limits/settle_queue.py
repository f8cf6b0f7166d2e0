"""Settlements written after the reply, many requests to one Redis call, and never lost.

Each request's settlement (its token correction, lease release and spend) is queued at once and
the request goes on. One background task writes what has gathered as one batch (one script call
for up to `max_batch` settlements) while the next batch gathers, so under load a Redis round
trip settles many requests. A batch carries an id that Redis remembers for `done_ttl_s`: a batch
whose reply was lost (a timeout) is sent again as it was and applied once. A batch that could
not be written is kept, counted through `on_failure("retried", n)`, and sent again after
`retry_s`; only a queue grown past `max_pending` settlements drops its oldest batches, and a
batch Redis refuses as such (a script error, which no retry can mend) is dropped too
(`on_failure("dropped", n)`): their leases and holds then lapse at their expiry.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from switchboard.stores.guard import STORE_ERRORS, Down, StoreGuard, is_outage

log = logging.getLogger("switchboard.limits")
SettleFailure = Callable[[str, int], None]
WriteBatch = Callable[[str, list[str], list[Any]], Awaitable[object]]


@dataclass(slots=True)
class Batch:
    """Settlements written together; `keys`/`args` are those of `lua/settle_batch.lua`."""

    id: str
    kind: str = ""  # its first settlement's: an outage it meets is reported as this kind
    keys: list[str] = field(default_factory=list)
    args: list[Any] = field(default_factory=list)
    count: int = 0
    sealed: bool = False  # taken by the writer: it gets no more settlements
    failed: bool = False


class SettleQueue:
    def __init__(
        self,
        write: WriteBatch,
        guards: Mapping[str, StoreGuard] | None = None,
        on_failure: SettleFailure | None = None,
        *,
        max_batch: int = 200,
        max_pending: int = 100_000,
        retry_s: float = 0.5,
    ) -> None:
        self._write = write
        self._guards = guards or {}
        self._on_failure = on_failure
        self._max_batch = max_batch
        self._max_pending = max_pending
        self._retry_s = retry_s
        self._batches: deque[Batch] = deque()
        self._pending = 0
        self._task: asyncio.Task[None] | None = None
        self._inflight: Batch | None = None

    @property
    def pending(self) -> int:
        """Settlements queued and not yet written."""
        return self._pending

    def put(self, keys: list[str], args: list[Any], kind: str = "") -> None:
        """Queue one settlement; it is written by the background task, never awaited here."""
        batch = self._batches[-1] if self._batches else None
        if batch is None or batch.sealed or batch.count >= self._max_batch:
            batch = Batch(f"{random.getrandbits(64):016x}", kind)
            self._batches.append(batch)
        batch.keys += keys
        batch.args += args
        batch.count += 1
        self._pending += 1
        self._drop_overflow()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            while self._batches:
                batch = self._batches[0]
                batch.sealed = True
                self._inflight = batch
                try:
                    sent = await self._send(batch)
                except Exception:  # refused by Redis itself (a script error): never writable
                    log.exception("a batch of %d settlement(s) was refused", batch.count)
                    sent = True
                    self._report("dropped", batch.count)
                self._inflight = None
                if sent:
                    self._batches.popleft()
                    self._pending -= batch.count
                    continue
                if not batch.failed:
                    batch.failed = True
                    self._report("retried", batch.count)
                await asyncio.sleep(self._retry_s)
        finally:
            self._task = self._inflight = None

    async def _send(self, batch: Batch) -> bool:
        def op() -> Awaitable[object]:
            return self._write(batch.id, batch.keys, batch.args)

        guard = self._guards.get(batch.kind)
        if guard is not None:
            done = await guard.call(op, idempotent=True)  # a batch is applied once
            return not isinstance(done, Down)
        try:
            await op()
        except STORE_ERRORS as exc:
            if not is_outage(exc):
                raise
            log.warning("could not write settlements: %s", type(exc).__name__)
            return False
        return True

    def _drop_overflow(self) -> None:
        while self._pending > self._max_pending and len(self._batches) > 1:
            at = 1 if self._batches[0] is self._inflight else 0
            dropped = self._batches[at]
            del self._batches[at]
            self._pending -= dropped.count
            self._report("dropped", dropped.count)

    def _report(self, outcome: str, count: int) -> None:
        log.warning("%d settlement(s) not written to the limits store: %s", count, outcome)
        if self._on_failure is not None:
            self._on_failure(outcome, count)

    async def drain(self, timeout_s: float = 5.0) -> None:
        """Wait until everything queued is written, or `timeout_s` (then what is left is lost
        and counted as dropped: its leases and holds lapse at their expiry)."""
        deadline = time.monotonic() + timeout_s
        while self._task is not None and time.monotonic() < deadline:
            await asyncio.wait({self._task}, timeout=deadline - time.monotonic())
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._pending:
            self._report("dropped", self._pending)
            self._batches.clear()
            self._pending = 0
