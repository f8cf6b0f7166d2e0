"""Ingestion as a chain of background jobs: `rag.chunk` → `rag.embed` → `rag.index`, each a
thin wrapper of one `Ingestion` step, retried on its own (a step's retry resumes from what the
previous attempt stored). Submitted by `JobsRunner`; installed from `jobs/installed.py`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from switchboard.errors import NotFoundError
from switchboard.jobs.errors import RetryableJobError, is_retryable
from switchboard.jobs.idempotency import Idempotency, stamped
from switchboard.jobs.model import ChainStep, Job, JobRequest
from switchboard.rag.ingest import Ingestion, StepResult
from switchboard.rag.models import Document, NewDocument
from switchboard.rag.parsers import UnreadableDocument

if TYPE_CHECKING:
    from switchboard.config import Settings
    from switchboard.jobs.context import JobContext
    from switchboard.jobs.engine import JobEngine
    from switchboard.jobs.registry import TaskRegistry

log = logging.getLogger("switchboard.rag")
CHAIN = ("rag.chunk", "rag.embed", "rag.index")

Step = Callable[[Ingestion, str, str, int], Awaitable[StepResult]]


def _target(payload: dict[str, Any]) -> dict[str, Any]:
    """The document a step works on: its own payload (the first step) or the previous result."""
    return payload.get("previous") or payload


async def _run_step(ctx: JobContext, payload: dict[str, Any], step: Step, done: float) -> Any:
    target = _target(payload)
    owner, doc_id, version = target["owner"], target["document_id"], int(target["version"])
    if target.get("superseded"):
        return target  # a newer version's chain does the work
    holder = ctx.gateway.rag
    assert holder is not None  # Gateway.build makes it
    ingestion = (await holder.get()).services.ingestion
    try:
        result = await step(ingestion, owner, doc_id, version)
    except UnreadableDocument:
        raise  # the document itself is bad: no retry (the step marked it failed)
    except Exception as exc:
        if ctx.final_attempt:
            reason = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            await ingestion.store.set_status(owner, doc_id, version, "failed", reason)
        if is_retryable(exc):
            raise
        raise RetryableJobError(f"{type(exc).__name__}: {exc}") from exc
    await ctx.progress(done)
    return {
        "owner": owner,
        "document_id": doc_id,
        "version": version,
        "chunks": result.chunks,
        "superseded": result.superseded,
    }


async def chunk(ctx: JobContext, payload: dict[str, Any]) -> Any:
    return await _run_step(ctx, payload, Ingestion.chunk, 100.0)


async def embed(ctx: JobContext, payload: dict[str, Any]) -> Any:
    return await _run_step(ctx, payload, Ingestion.embed, 100.0)


async def index(ctx: JobContext, payload: dict[str, Any]) -> Any:
    return await _run_step(ctx, payload, Ingestion.index, 100.0)


def install(registry: TaskRegistry, settings: Settings) -> None:
    for name, fn in zip(CHAIN, (chunk, embed, index), strict=True):
        registry.add(name, fn, max_attempts=5, backoff_s=1.0, soft_limit_s=600.0)


class JobsRunner:
    """Ingestion submitted to the job engine as the chain chunk → embed → index; the first
    job's id is what the client polls (its `next_id` links the following steps)."""

    def __init__(self, engine: JobEngine) -> None:
        self._engine = engine

    async def submit(
        self, owner: str, document_id: str, version: int, *, by: str, key_id: str | None
    ) -> str | None:
        job = await self._engine.submit(_chain(owner, document_id, version, by, key_id, None))
        return job.id

    async def submit_once(
        self,
        ingestion: Ingestion,
        owner: str,
        new: NewDocument,
        *,
        by: str,
        key_id: str | None,
        idem: Idempotency,
    ) -> tuple[Document, str]:
        """Store and ingest the document unless `by` sent this Idempotency-Key before: then
        the document and first job that request made (409 if it was another request)."""
        earlier = await self._engine.earlier(by, idem, CHAIN[0])
        if earlier is None:
            doc = await ingestion.submit(owner, new)
            job = await self._engine.submit(_chain(owner, doc.id, doc.version, by, key_id, idem))
            if (job.payload.get("document_id"), job.payload.get("version")) == (
                doc.id,
                doc.version,
            ):
                return doc, job.id
            await self._lost_race(ingestion, owner, doc, job, by, key_id)
            earlier = job
        found = await ingestion.store.get(owner, earlier.payload["document_id"])
        if found is None:
            raise NotFoundError("The document this Idempotency-Key made has been deleted.",
                                param="Idempotency-Key")  # fmt: skip
        return found, earlier.id

    async def _lost_race(
        self, ingestion: Ingestion, owner: str, doc: Document, winner: Job, by: str,
        key_id: str | None,
    ) -> None:  # fmt: skip
        """A request with the same key stored its job first (the winner's job is the answer):
        drop this request's new document, or, when both wrote versions of the same id, still
        ingest this later version (the same bytes) so that it is not left unindexed."""
        if winner.payload.get("document_id") != doc.id:
            await ingestion.delete(owner, doc.id)
        else:
            await self._engine.submit(_chain(owner, doc.id, doc.version, by, key_id, None))

    async def aclose(self) -> None:
        return None


def _chain(
    owner: str, document_id: str, version: int, by: str, key_id: str | None,
    idem: Idempotency | None,
) -> JobRequest:  # fmt: skip
    payload = {"owner": owner, "document_id": document_id, "version": version}
    return JobRequest(
        kind=CHAIN[0],
        owner=by,
        key_id=key_id,
        payload=stamped(payload, idem),
        idempotency_key=idem.key if idem else None,
        chain=tuple(ChainStep(kind) for kind in CHAIN[1:]),
    )
