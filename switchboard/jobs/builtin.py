"""The engine's own tasks: webhook delivery (callback pattern) and feedback (fire-and-forget)."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import aiohttp
from sqlalchemy import insert, select

from switchboard.jobs.context import JobContext
from switchboard.jobs.errors import RetryableJobError
from switchboard.jobs.registry import TaskRegistry
from switchboard.jobs.runner import WEBHOOK_TASK
from switchboard.jobs.tables import feedback
from switchboard.jobs.view import job_view
from switchboard.jobs.webhooks import SIGNATURE_HEADER, check_target, sign

if TYPE_CHECKING:
    from switchboard.config import Settings

FEEDBACK_TASK = "switchboard.feedback"
PING_TASK = "switchboard.ping"


async def deliver_webhook(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    engine = ctx.engine
    job = await engine.store.get(payload["job_id"])
    if job is None or job.callback_url is None:
        return {"delivered": False}
    settings = engine.settings
    secret = settings.webhook_secret
    assert secret is not None
    await check_target(job.callback_url, settings)  # again: DNS may have changed
    body = json.dumps(job_view(job), separators=(",", ":")).encode()
    headers = {
        "content-type": "application/json",
        SIGNATURE_HEADER: sign(secret.get_secret_value(), body),
        "user-agent": "switchboard-webhook",
    }
    timeout = aiohttp.ClientTimeout(total=settings.webhook_timeout_s)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(
                job.callback_url, data=body, headers=headers, allow_redirects=False
            ) as reply,
        ):
            ok = 200 <= reply.status < 300
            reason = f"receiver answered {reply.status}"
    except (aiohttp.ClientError, TimeoutError) as exc:
        ok, reason = False, f"delivery failed: {type(exc).__name__}"
    if ok:
        await engine.store.set_fields(job.id, callback_status="delivered")
        engine.metrics.webhook_delivery("delivered")
        return {"delivered": True, "attempts": ctx.attempt}
    if ctx.final_attempt:
        await engine.store.set_fields(job.id, callback_status="failed")
    engine.metrics.webhook_delivery("abandoned" if ctx.final_attempt else "failed")
    raise RetryableJobError(reason)


async def store_feedback(ctx: JobContext, payload: dict[str, Any]) -> dict[str, str]:
    row_id = payload.get("feedback_id") or f"fb_{secrets.token_hex(12)}"
    values = {
        "id": row_id,
        "owner": ctx.job.owner,
        "response_id": payload["response_id"],
        "score": payload.get("score"),
        "label": payload.get("label"),
        "comment": payload.get("comment"),
        "created_at": datetime.now(UTC),
    }
    async with ctx.engine.store.engine.begin() as conn:
        exists = (await conn.execute(select(feedback.c.id).where(feedback.c.id == row_id))).first()
        if exists is None:
            await conn.execute(insert(feedback).values(values))
    return {"feedback_id": row_id}


async def ping(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Does nothing: a probe of the job path (and the engine's own cost in bench/jobs.py)."""
    return {"pong": payload.get("n")}


def install(registry: TaskRegistry, settings: Settings) -> None:
    registry.add(PING_TASK, ping, max_attempts=3, soft_limit_s=10.0)
    registry.add(
        WEBHOOK_TASK,
        deliver_webhook,
        max_attempts=settings.webhook_max_attempts,
        backoff_s=settings.webhook_backoff_s,
        backoff_max_s=600.0,
        soft_limit_s=60.0,
        hard_limit_s=90.0,
    )
    registry.add(FEEDBACK_TASK, store_feedback, max_attempts=5, soft_limit_s=30.0)
