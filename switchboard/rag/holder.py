"""RagHolder: the process's RAG runtime, built on first use (a gateway or worker that never
touches documents opens no document database and loads no embedder). The Gateway owns one;
routes and ingestion tasks reach the runtime through it."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from switchboard.config import Settings
    from switchboard.embeddings.base import Embedder
    from switchboard.jobs.engine import JobEngine
    from switchboard.rag.build import RagRuntime
    from switchboard.stores.backbone import StoreBackbone


class RagHolder:
    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        jobs: JobEngine | None = None,
        backbone: StoreBackbone | None = None,
    ) -> None:
        self._settings = settings
        self._embedder = embedder
        self._jobs = jobs
        self._backbone = backbone
        self._runtime: RagRuntime | None = None
        self._lock: asyncio.Lock | None = None

    async def get(self) -> RagRuntime:
        if self._runtime is None:
            if self._lock is None:
                self._lock = asyncio.Lock()
            async with self._lock:
                if self._runtime is None:
                    from switchboard.rag.build import rag_runtime

                    runtime = await rag_runtime(
                        self._settings, self._embedder, self._jobs, self._backbone
                    )
                    await runtime.start()
                    self._runtime = runtime
        return self._runtime

    async def aclose(self) -> None:
        if self._runtime is not None:
            runtime, self._runtime = self._runtime, None
            await runtime.aclose()
