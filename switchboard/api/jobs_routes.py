"""The job API: submit (`POST /v1/tasks`), poll, list and cancel the caller's jobs, and
`POST /v1/feedback` (fire-and-forget). Every job belongs to the key that created it; another
key's job id is answered 404, as an unknown one is."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from starlette.responses import Response

from switchboard.api.body import parse_body
from switchboard.api.deps import caller_key, gateway_of
from switchboard.api.jobs_wire import FeedbackIn, TaskIn
from switchboard.api.openai_routes import json_response
from switchboard.api.responses_routes import owner_of
from switchboard.errors import InvalidRequest, NotFoundError
from switchboard.jobs.builtin import FEEDBACK_TASK
from switchboard.jobs.idempotency import Idempotency, stamped
from switchboard.jobs.model import JobRequest
from switchboard.jobs.view import job_view

if TYPE_CHECKING:
    from switchboard.gateway import Gateway
    from switchboard.jobs.engine import JobEngine
    from switchboard.keys.models import ApiKey

MAX_PAGE = 100
router = APIRouter()


def engine_of(gateway: Gateway) -> JobEngine:
    if gateway.jobs is None:
        raise NotFoundError(
            "Background jobs are off on this gateway (set SWITCHBOARD_DATABASE_URL)."
        )
    return gateway.jobs


async def caller(request: Request) -> tuple[JobEngine, ApiKey | None, str]:
    """The job engine, the caller's key and the owner its jobs are stored under."""
    gateway = gateway_of(request)
    key = await caller_key(request, gateway)
    return engine_of(gateway), key, owner_of(key)


def idempotency_key(request: Request) -> str | None:
    """The Idempotency-Key header (see jobs/idempotency.py for what a repeat gets)."""
    value = request.headers.get("idempotency-key")
    if value is not None and not 1 <= len(value) <= 200:
        raise InvalidRequest("Idempotency-Key must be 1 to 200 characters", param="Idempotency-Key")
    return value


@router.post("/v1/tasks", status_code=202)
async def create_task(request: Request) -> Response:
    engine, key, owner = await caller(request)
    body = await parse_body(request, TaskIn, gateway_of(request).settings.max_body_bytes)
    spec = engine.registry.get(body.kind)
    if spec is None or not spec.public:
        kinds = ", ".join(engine.registry.public())
        raise InvalidRequest(f"unknown task kind {body.kind!r} (one of: {kinds})", param="kind")
    idem = Idempotency.of(idempotency_key(request), "tasks", body.model_dump())
    job = await engine.submit(
        JobRequest(
            kind=body.kind,
            owner=owner,
            key_id=key.id if key is not None else None,
            payload=stamped({"body": body.input}, idem),
            idempotency_key=idem.key if idem else None,
            callback_url=body.callback_url,
            priority=body.priority,
        )
    )
    return json_response(job_view(job), status=202)


@router.get("/v1/tasks")
async def list_tasks(
    request: Request, limit: int = 20, after: str | None = None, kind: str | None = None
) -> Response:
    engine, _, owner = await caller(request)
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidRequest(f"limit must be between 1 and {MAX_PAGE}", param="limit")
    jobs = await engine.list(owner, limit + 1, after, kind)
    data = [job_view(j) for j in jobs[:limit]]
    return json_response({"object": "list", "data": data, "has_more": len(jobs) > limit})


@router.get("/v1/tasks/{task_id}")
async def get_task(request: Request, task_id: str) -> Response:
    engine, _, owner = await caller(request)
    job = await engine.get(task_id, owner)
    if job is None:
        raise NotFoundError(f"No task with id {task_id!r}.", param="task_id")
    return json_response(job_view(job))


@router.delete("/v1/tasks/{task_id}")
async def cancel_task(request: Request, task_id: str) -> Response:
    engine, _, owner = await caller(request)
    job = await engine.cancel(task_id, owner)
    if job is None:
        raise NotFoundError(f"No task with id {task_id!r}.", param="task_id")
    return json_response(job_view(job))


@router.post("/v1/feedback", status_code=202)
async def post_feedback(request: Request) -> Response:
    """Accepted at once; a job stores it (the reply does not wait for the database)."""
    engine, key, owner = await caller(request)
    body = await parse_body(request, FeedbackIn, gateway_of(request).settings.max_body_bytes)
    idem = Idempotency.of(idempotency_key(request), "feedback", body.model_dump())
    payload = {**body.model_dump(), "feedback_id": f"fb_{secrets.token_hex(12)}"}
    job = await engine.submit(
        JobRequest(
            kind=FEEDBACK_TASK,
            owner=owner,
            key_id=key.id if key is not None else None,
            payload=stamped(payload, idem),
            idempotency_key=idem.key if idem else None,
            priority=2,
        )
    )
    reply = {"id": job.payload["feedback_id"], "object": "feedback", "task_id": job.id,
             "status": job.status}  # fmt: skip
    return json_response(reply, status=202)
