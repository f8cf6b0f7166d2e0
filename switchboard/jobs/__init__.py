"""Background jobs: accepted at once, run by a worker, polled (`GET /v1/tasks/{id}`), called
back (webhooks) or chained; durable in the SQL job table whatever runs them.

Engines: with `SWITCHBOARD_JOBS_BROKER_URL` (redis://... or amqp://...) Celery workers
(`switchboard worker`) run the jobs; without it `switchboard serve` runs them itself (embedded
runner over the same table). The same task code runs in both.

Registering a task (one installer per module, listed in `jobs/installed.py`):

    async def ingest(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
        gateway = ctx.gateway                  # pipeline, internal calls, stores
        key = await ctx.key()                  # the submitting key, for pipeline calls
        await ctx.progress(50.0)               # raises JobCancelled if the owner cancelled
        return {"chunks": 12}                  # JSON: the job's result

    def install(registry: TaskRegistry, settings: Settings) -> None:
        registry.add("rag.ingest", ingest, max_attempts=5, backoff_s=1.0, soft_limit_s=300)

Raise `RetryableJobError` (or let a ProviderError/RateLimited escape) to be retried with
exponential backoff; past `max_attempts` the job is `dead_letter`. Any other exception fails it.
A task may run more than once (a lost worker's job is re-run), so make its side effects
idempotent (upserts keyed by the job's input); its result is recorded exactly once.

Submitting (from a route: `gateway.jobs` is the JobEngine, None when jobs are off):

    job = await gateway.jobs.submit(JobRequest(
        kind="rag.ingest", owner=owner_of(key), key_id=key.id if key else None,
        payload={...}, idempotency_key=request.headers.get("idempotency-key"),
        callback_url=None, priority=5,
        chain=(ChainStep("rag.embed"), ChainStep("rag.index")),  # optional
    ))

A chain: when a step succeeds the next is submitted with `payload["previous"]` = its result,
the same owner and key, and `root_id` = the first job's id; each step is retried on its own and
a re-run step does not submit its successor twice. `job.next_id` links the steps.
"""

from switchboard.jobs.context import JobContext
from switchboard.jobs.errors import JobCancelled, RetryableJobError
from switchboard.jobs.model import ChainStep, Job, JobRequest
from switchboard.jobs.registry import TaskRegistry

__all__ = [
    "ChainStep",
    "Job",
    "JobCancelled",
    "JobContext",
    "JobRequest",
    "RetryableJobError",
    "TaskRegistry",
]
