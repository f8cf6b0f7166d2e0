"""Submitting a batch: check the input file, estimate its cost, reserve that against the key's
budget (402 if it does not fit), then store the batch and its `batch.run` job."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from switchboard.catalogue import Price
from switchboard.domain import Usage
from switchboard.errors import BudgetExceeded, InvalidRequest, NotFoundError, PermissionDenied
from switchboard.jobs.batch_format import BATCH_ENDPOINTS, BatchLine, parse_input
from switchboard.jobs.batch_store import SqlBatchStore, new_id
from switchboard.jobs.batch_task import BATCH_TASK
from switchboard.jobs.idempotency import Idempotency, stamped
from switchboard.jobs.model import JobRequest
from switchboard.pricing import cost_micro
from switchboard.tokens import estimate_prompt_tokens

if TYPE_CHECKING:
    from switchboard.catalogue import Catalogue
    from switchboard.gateway import Gateway
    from switchboard.keys.models import ApiKey


def dearest_price(catalogue: Catalogue, model: str) -> Price:
    """The highest rates of any deployment that may serve `model` (fallbacks included)."""
    found = catalogue.find(model)
    names = [model, *(found.fallbacks if found else [])]
    prices = [d.price for n in names if (m := catalogue.find(n)) for d in m.deployments]
    return Price(
        input=max((p.input for p in prices), default=0.0),
        output=max((p.output for p in prices), default=0.0),
    )


def estimate_micro(catalogue: Catalogue, lines: list[BatchLine], reply_tokens: int) -> int:
    prices = {m: dearest_price(catalogue, m) for m in {line.request.model for line in lines}}
    return sum(
        cost_micro(
            Usage(estimate_prompt_tokens(line.request), line.request.token_limit() or reply_tokens),
            prices[line.request.model],
        )
        for line in lines
    )


def _check_models(gateway: Gateway, key: ApiKey | None, lines: list[BatchLine]) -> None:
    for model in sorted({line.request.model for line in lines}):
        if gateway.catalogue.find(model) is None:
            raise InvalidRequest(
                f"the batch names an unknown model {model!r}", param="input_file_id"
            )
        if key is not None and not key.allows_model(model):
            raise PermissionDenied(f"This API key may not use the model `{model}`.")


async def _reserve(gateway: Gateway, key: ApiKey | None, batch_id: str, amount: int) -> str | None:
    """Hold the estimate in the key's budget ledger; the hold's name (None: nothing held)."""
    if key is None or key.budget_usd is None or gateway.limits is None or gateway.keys is None:
        return None
    from switchboard.pipeline.limits import budget_period

    now = datetime.now(UTC)
    scope, period = f"key:{key.id}", budget_period(key, now)
    budget = round(key.budget_usd * 1_000_000)
    ledger = gateway.limits.spend
    decision = await ledger.reserve(scope, period, amount, budget, once=f"batch:{batch_id}")
    if not decision.seeded:  # first use here: undo, start from the database, ask again
        if decision.allowed:
            await ledger.settle(scope, period, amount, 0, hold=decision.hold or "")
        spent = await gateway.keys.spend(key.id, since=key.budget_window_start(now.date()))
        await ledger.seed(scope, period, round(spent * 1e6))
        decision = await ledger.reserve(scope, period, amount, budget, once=f"batch:{batch_id}")
    if not decision.allowed:
        raise BudgetExceeded(
            f"This batch's estimated cost (${amount / 1e6:.4f}) does not fit in the key's "
            f"remaining budget of ${key.budget_usd:.2f} ({key.budget_period})."
        )
    return decision.hold or ""


async def submit_batch(
    gateway: Gateway,
    key: ApiKey | None,
    owner: str,
    body: dict[str, Any],
    idem: Idempotency | None,
) -> Any:
    """The new batch's row (or, for a repeated Idempotency-Key, the first one's; 409 when
    the key was used for a different request)."""
    assert gateway.jobs is not None
    engine = gateway.jobs
    store = SqlBatchStore(engine.store.engine)
    earlier = await engine.earlier(owner, idem, BATCH_TASK)
    if earlier is not None:
        return await store.batch(earlier.payload["batch_id"], owner)
    if body["endpoint"] not in BATCH_ENDPOINTS:
        raise InvalidRequest(
            f"endpoint must be one of {', '.join(BATCH_ENDPOINTS)}", param="endpoint"
        )
    content = await store.content(body["input_file_id"], owner)
    if content is None:
        raise NotFoundError(f"No file with id {body['input_file_id']!r}.", param="input_file_id")
    lines = await asyncio.to_thread(parse_input, content, body["endpoint"])
    _check_models(gateway, key, lines)
    settings = gateway.settings
    estimate = estimate_micro(gateway.catalogue, lines, settings.reserve_completion_tokens)
    batch_id = new_id("batch_")
    hold = await _reserve(gateway, key, batch_id, estimate)
    now = datetime.now(UTC)
    await store.add_batch({
        "id": batch_id, "owner": owner, "key_id": key.id if key else None,
        "endpoint": body["endpoint"], "input_file_id": body["input_file_id"],
        "completion_window": body["completion_window"], "status": "validating",
        "total": len(lines), "completed": 0, "failed": 0,
        "reserved_micro": estimate if hold is not None else 0, "reservation_hold": hold,
        "batch_metadata": body.get("metadata"), "created_at": now,
        "expires_at": now + timedelta(hours=24),
    })  # fmt: skip
    job = await engine.submit(
        JobRequest(kind=BATCH_TASK, owner=owner, key_id=key.id if key else None,
                   payload=stamped({"batch_id": batch_id, "estimate_micro": estimate}, idem),
                   idempotency_key=idem.key if idem else None, priority=3)
    )  # fmt: skip
    await store.update_batch(batch_id, job_id=job.id)
    return await store.batch(job.payload["batch_id"], owner)


async def cancel_batch(gateway: Gateway, owner: str, batch_id: str) -> Any:
    assert gateway.jobs is not None
    store = SqlBatchStore(gateway.jobs.store.engine)
    from switchboard.jobs.batch_tables import batches

    live = batches.c.status.in_(("validating", "in_progress"))
    await store.update_batch(batch_id, live, batches.c.owner == owner, status="cancelling",
                             cancelling_at=datetime.now(UTC))  # fmt: skip
    return await store.batch(batch_id, owner)
