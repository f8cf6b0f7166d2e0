"""The dashboard's live stats across replicas, through Redis.

Every replica publishes its completed seconds (`HSET <prefix>live:<unix second> <replica>
<counts and latency histograms>`, kept for the horizon) every `publish_s`, and its totals
(requests since it started, requests in flight, spend by model) in `<prefix>live:replicas`.
A dashboard read merges every replica's seconds exactly (counts add up, the 2%-wide latency
buckets add up) and reports the series only up to `lag_s` seconds ago, so that each replica
has published the seconds it shows; a merged second that old is kept, so a poll fetches only
the seconds it has not seen. While Redis is away the dashboard shows this replica alone.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from switchboard.observability.live import LiveStats, Second, first_point, summarize
from switchboard.observability.periodic import Periodic

if TYPE_CHECKING:
    from switchboard.stores.backbone import StoreBackbone

log = logging.getLogger("switchboard.dashboard")
_NUMS = orjson.OPT_NON_STR_KEYS


def second_bytes(sec: Second) -> bytes:
    return orjson.dumps(
        [sec.requests, sec.errors, sec.refused, sec.cache_lookups, sec.cache_hits,
         sec.cost_usd, sec.latency, sec.ttft],
        option=_NUMS,
    )  # fmt: skip


def add_second(into: Second, raw: bytes) -> None:
    """Add one replica's published second to the merged one."""
    requests, errors, refused, lookups, hits, cost, latency, ttft = orjson.loads(raw)
    into.requests += requests
    into.errors += errors
    into.refused += refused
    into.cache_lookups += lookups
    into.cache_hits += hits
    into.cost_usd += cost
    for mine, theirs in ((into.latency, latency), (into.ttft, ttft)):
        for index, count in theirs.items():
            mine[int(index)] = mine.get(int(index), 0) + count


class LiveShare:
    scope = "cluster"

    def __init__(
        self,
        live: LiveStats,
        backbone: StoreBackbone,
        active: Callable[[], int],
        *,
        publish_s: float = 0.5,
        lag_s: int = 2,
        alive_s: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.live = live
        self._client = backbone.client
        self._guard = backbone.guard("live")
        self._prefix = backbone.prefix + "live:"
        self._active = active
        self.lag_s, self._alive_s = lag_s, alive_s
        self._clock = clock
        self.replica = f"{os.getpid():x}-{random.getrandbits(48):012x}"
        self._published = int(clock()) - 1  # the last second sent
        self._final: dict[int, Second] = {}  # merged seconds old enough to be complete
        self._publisher = Periodic(
            self.publish, publish_s, log, "share the live stats", name="live-share"
        )

    def start(self) -> None:
        self._publisher.start()

    async def aclose(self) -> None:
        await self._publisher.aclose()

    async def publish(self) -> bool:
        """This replica's seconds completed since the last publish, and its totals."""
        now = self._clock()
        last = int(now) - 1
        live = self.live
        fresh = live.window(last, min(last - self._published, live.horizon_s))
        pipe = self._client.pipeline(transaction=False)
        for sec in fresh:
            key = f"{self._prefix}{sec.at}"
            pipe.hset(key, self.replica, second_bytes(sec))
            pipe.expire(key, live.horizon_s + 60)
        totals = {"at": now, "requests_total": live.requests_total, "active": self._active(),
                  "spend": live.cost_by_model}  # fmt: skip
        pipe.hset(self._prefix + "replicas", self.replica, orjson.dumps(totals))
        pipe.expire(self._prefix + "replicas", int(self._alive_s * 4))
        done = await self._guard.call(pipe.execute)
        if not isinstance(done, list):
            return False
        self._published = last
        return True

    async def view(self, since: int | None, window_s: int, history_s: int) -> dict[str, Any] | None:
        """The dashboard's live fields over every replica; None when Redis is away."""
        if not await self.publish():
            return None
        now = int(self._clock())
        last = now - self.lag_s
        first = first_point(last, since, window_s, history_s, self.live.horizon_s - self.lag_s)
        seconds = await self._seconds(min(first, last) - window_s + 1, last, now)
        replicas = await self._guard.call(lambda: self._client.hgetall(self._prefix + "replicas"))
        if seconds is None or not isinstance(replicas, dict):
            return None

        def window(end: int) -> list[Second]:
            return [seconds[t] for t in range(end - window_s + 1, end + 1) if t in seconds]

        out: dict[str, Any] = {"replicas": 0, "requests_total": 0, "active_requests": 0}
        spend: dict[str, float] = {}
        gone = []
        for replica, raw in replicas.items():
            totals = orjson.loads(raw)
            if totals["at"] < self._clock() - self._alive_s:
                gone.append(replica)  # a replica that stopped (or stopped publishing)
                continue
            out["replicas"] += 1
            out["requests_total"] += totals["requests_total"]
            out["active_requests"] += totals["active"]
            for model, cost in totals["spend"].items():
                spend[model] = spend.get(model, 0.0) + cost
        if gone:
            await self._guard.call(lambda: self._client.hdel(self._prefix + "replicas", *gone))
        out["spend_by_model"] = {k: round(v, 9) for k, v in sorted(spend.items())}
        out["series"] = [summarize(window(t), t, window_s) for t in range(first, last + 1)]
        out["current"] = summarize(window(last), last, window_s)
        return out

    async def _seconds(self, first: int, last: int, now: int) -> dict[int, Second] | None:
        """The merged seconds in [first, last]: from the kept ones, the rest read from Redis."""
        horizon = now - self.live.horizon_s
        self._final = {t: s for t, s in self._final.items() if t > horizon}
        missing = [t for t in range(max(first, horizon + 1), last + 1) if t not in self._final]
        if missing:
            pipe = self._client.pipeline(transaction=False)
            for t in missing:
                pipe.hgetall(f"{self._prefix}{t}")
            replies = await self._guard.call(pipe.execute)
            if not isinstance(replies, list):
                return None
            for t, published in zip(missing, replies, strict=True):
                merged = Second(t)
                for raw in published.values():
                    add_second(merged, raw)
                self._final[t] = merged  # `last` is lag_s old: every replica has sent it
        return {t: self._final[t] for t in range(first, last + 1) if t in self._final}
