"""How fast a batch may call each model: a bounded number of lines in flight per deployment,
and, where deployments declare an rpm quota, a pace that leaves `batch_interactive_share` of
it to interactive traffic. Lines still pass the key's and deployments' own limits in the
pipeline; a line refused there waits for Retry-After and tries again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from switchboard.catalogue import Catalogue


class Lane:
    def __init__(self, concurrency: int, rpm: float | None) -> None:
        self._slots = asyncio.Semaphore(concurrency)
        self._interval = 60.0 / rpm if rpm else 0.0
        self._next = 0.0
        self._pace = asyncio.Lock()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._slots:
            if self._interval:
                async with self._pace:
                    wait = self._next - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    self._next = max(self._next, time.monotonic()) + self._interval
            yield


class Lanes:
    """One lane per model of the batch, made on first use."""

    def __init__(self, catalogue: Catalogue, per_deployment: int, interactive_share: float):
        self._catalogue = catalogue
        self._per_deployment = per_deployment
        self._share = interactive_share
        self._lanes: dict[str, Lane] = {}

    def lane(self, model: str) -> Lane:
        if model not in self._lanes:
            found = self._catalogue.find(model)
            deployments = found.deployments if found is not None else []
            concurrency = self._per_deployment * max(1, len(deployments))
            rpm = sum(d.rpm or 0 for d in deployments)
            batch_rpm = rpm * (1.0 - self._share) if rpm else None
            self._lanes[model] = Lane(concurrency, max(1.0, batch_rpm) if batch_rpm else None)
        return self._lanes[model]
