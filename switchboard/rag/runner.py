"""How ingestion runs once a document is stored: `IngestRunner` hands (owner, id, version) to
something that runs the three steps. `InProcessRunner` runs them as tasks of this process;
the job engine's runner (`rag/tasks.JobsRunner`) submits them as a chain of background jobs.
The in-process one serves a gateway whose jobs are off (no database, no keys)."""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from switchboard.rag.ingest import Ingestion

log = logging.getLogger("switchboard.rag")


class IngestRunner(Protocol):
    async def submit(
        self, owner: str, document_id: str, version: int, *, by: str, key_id: str | None
    ) -> str | None:
        """Start ingesting `owner`'s document on behalf of `by` (the job's owner: the calling
        key) and its key; returns the job's id when a job engine runs it."""

    async def aclose(self) -> None: ...


class InProcessRunner:
    """The steps as a task of this process (no job engine): lost if the process stops first,
    which the document's status shows (it stays `queued` or `chunked`)."""

    def __init__(self, ingestion: Ingestion) -> None:
        self._ingestion = ingestion
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(
        self, owner: str, document_id: str, version: int, *, by: str, key_id: str | None
    ) -> str | None:
        task = asyncio.create_task(self._run(owner, document_id, version))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return None

    async def _run(self, owner: str, document_id: str, version: int) -> None:
        try:
            await self._ingestion.run(owner, document_id, version)
        except Exception as exc:
            log.warning("ingestion of document %s failed: %s", document_id, exc)
            message = getattr(exc, "message", None) or type(exc).__name__
            await self._ingestion.store.set_status(owner, document_id, version, "failed", message)

    async def drain(self) -> None:
        """Wait for the ingestions in flight (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
