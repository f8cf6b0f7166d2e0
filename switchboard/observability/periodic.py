"""A publisher on the event loop: an action every few seconds, failures logged and retried at the
next turn, and one last run at close so nothing recent is lost (live stats, SLO buckets)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable


class Periodic:
    def __init__(
        self,
        action: Callable[[], Awaitable[object]],
        every_s: float,
        log: logging.Logger,
        what: str,
        name: str | None = None,
    ) -> None:
        self._action, self._every_s, self._log, self._what = action, every_s, log, what
        self._name = name
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=self._name)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._every_s)
            try:
                await self._action()
            except Exception:
                self._log.exception("could not %s", self._what)

    async def aclose(self) -> None:
        """Stop, then run the action once more (its failure ignored); nothing if never started."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        with contextlib.suppress(Exception):
            await self._action()
