"""Sharing SLO buckets between replicas, and the board that reports them.

Embedded: the report reads this replica's buckets. Redis: every replica writes its own buckets
(`HSET <prefix>slo:<objective>:<minute> <replica> <counts>`; sketches in a `:sk` sibling, kept
only as long as the percentile window) every `interval_s` and before a report; the report sums
the counts and merges the sketches of every replica. Writes overwrite, so a repeated flush
counts nothing twice. While Redis is down the report falls back to this replica alone.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from switchboard.catalogue import SloConfig
from switchboard.observability.periodic import Periodic
from switchboard.observability.sketch import (
    BUCKET_S,
    Minute,
    sketch_bytes,
    sketch_from_bytes,
)
from switchboard.observability.slo import HISTORY_S, SloTracker
from switchboard.observability.slo_report import evaluate

if TYPE_CHECKING:
    from switchboard.stores.backbone import StoreBackbone

log = logging.getLogger("switchboard.slo")


class SloShare(Protocol):
    scope: str  # "replica" or "cluster": what the report covers

    async def publish(self, tracker: SloTracker) -> bool: ...

    async def minutes(
        self, tracker: SloTracker, objective: SloConfig, now: int
    ) -> dict[int, Minute] | None: ...


class LocalShare:
    scope = "replica"

    async def publish(self, tracker: SloTracker) -> bool:
        tracker.take_dirty()
        return True

    async def minutes(
        self, tracker: SloTracker, objective: SloConfig, now: int
    ) -> dict[int, Minute] | None:
        return tracker.minutes(objective.id)


class RedisShare:
    scope = "cluster"

    def __init__(self, backbone: StoreBackbone) -> None:
        self._client = backbone.client
        self._guard = backbone.guard("slo")
        self._prefix = backbone.prefix + "slo:"
        self.replica = f"{os.getpid():x}-{random.getrandbits(48):012x}"

    def _key(self, objective_id: str, minute: int) -> str:
        return f"{self._prefix}{objective_id}:{minute}"

    async def publish(self, tracker: SloTracker) -> bool:
        changed = tracker.take_dirty()
        if not changed:
            return True
        windows = {o.id: o.window_s for o in tracker.objectives}
        pipe = self._client.pipeline(transaction=False)
        for objective_id, minute, bucket in changed:
            key = self._key(objective_id, minute)
            pipe.hset(key, self.replica, orjson.dumps(bucket.counts()))
            pipe.expire(key, HISTORY_S + 2 * BUCKET_S)
            if bucket.latency is not None and bucket.ttft is not None:
                sk = key + ":sk"
                pipe.hset(sk, f"{self.replica}:latency", sketch_bytes(bucket.latency))
                pipe.hset(sk, f"{self.replica}:ttft", sketch_bytes(bucket.ttft))
                pipe.expire(sk, windows[objective_id] + 2 * BUCKET_S)
        result = await self._guard.call(pipe.execute)
        if not isinstance(result, list):
            tracker.dirty.update((o, m) for o, m, _ in changed)  # try again at the next flush
            return False
        return True

    async def minutes(
        self, tracker: SloTracker, objective: SloConfig, now: int
    ) -> dict[int, Minute] | None:
        span = range(now - HISTORY_S // BUCKET_S + 1, now + 1)
        sketched = range(now - objective.window_s // BUCKET_S + 1, now + 1)
        pipe = self._client.pipeline(transaction=False)
        for minute in span:
            pipe.hgetall(self._key(objective.id, minute))
        for minute in sketched:
            pipe.hgetall(self._key(objective.id, minute) + ":sk")
        replies = await self._guard.call(pipe.execute)
        if not isinstance(replies, list):
            return None
        out: dict[int, Minute] = {}
        for minute, counts in zip(span, replies, strict=False):
            if counts:
                out[minute] = bucket = Minute()
                for raw in counts.values():
                    bucket.add_counts(Minute.from_counts(orjson.loads(raw)))
        for minute, sketches in zip(sketched, replies[len(span) :], strict=True):
            bucket = out.setdefault(minute, Minute())
            for field, raw in sketches.items():
                name = field.decode().rsplit(":", 1)[1] if isinstance(field, bytes) else ""
                target = bucket.latency if name == "latency" else bucket.ttft
                if target is not None:
                    target.merge(sketch_from_bytes(raw))
        for minute, bucket in out.items():
            if minute not in sketched:
                bucket.latency = bucket.ttft = None
        return out


class SloBoard:
    """The tracker, its sharing, and the report; flushes in the background when shared.

    A report is kept for `max_age_s` (buckets are minutes, flushes every `interval_s`): a
    dashboard polling every second reads Redis once a second however many tabs are open.
    """

    def __init__(
        self,
        tracker: SloTracker,
        share: SloShare | None = None,
        interval_s: float = 5.0,
        max_age_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tracker = tracker
        self.share: SloShare = share or LocalShare()
        self._max_age = max_age_s
        self._clock = clock
        self._last: tuple[float, dict[str, Any]] | None = None
        self._publisher = Periodic(
            lambda: self.share.publish(self.tracker), interval_s, log, "share SLO buckets"
        )

    def start(self) -> None:
        if isinstance(self.share, RedisShare):
            self._publisher.start()

    async def aclose(self) -> None:
        await self._publisher.aclose()

    async def report(self) -> dict[str, Any]:
        """The `/admin/slo` body (its shape: `api/slo_routes.py`)."""
        now_s = self._clock()
        if self._last is not None and now_s - self._last[0] < self._max_age:
            return self._last[1]
        body = await self._report()
        self._last = (now_s, body)
        return body

    async def _report(self) -> dict[str, Any]:
        tracker = self.tracker
        shared = await self.share.publish(tracker)
        now = tracker.now_minute()
        entries, scope = [], self.share.scope if shared else "replica"
        for objective in tracker.objectives:
            minutes = await self.share.minutes(tracker, objective, now) if shared else None
            if minutes is None:
                minutes, scope = tracker.minutes(objective.id), "replica"
            entries.append(evaluate(objective, minutes, now))
        return {
            "object": "slo.report",
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "scope": scope,
            "bucket_s": BUCKET_S,
            "objectives": entries,
        }
