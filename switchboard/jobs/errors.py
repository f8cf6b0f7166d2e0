"""What a task raises to say how its job ends (anything else fails the job at once)."""

from __future__ import annotations

from switchboard.errors import (
    ProviderError,
    RateLimited,
    ServiceNotReady,
    UpstreamBadRequest,
)


class RetryableJobError(Exception):
    """A passing failure: the job is queued again after the task's exponential backoff."""


class JobCancelled(Exception):
    """Raised inside a running job once its owner cancelled it."""


class TimeLimitExceeded(Exception):
    """The job ran past its soft time limit."""


def is_retryable(exc: BaseException) -> bool:
    """Transient failures: the task's own, upstream outages and rate limits, a model loading."""
    if isinstance(exc, UpstreamBadRequest):
        return False
    return isinstance(exc, RetryableJobError | ProviderError | RateLimited | ServiceNotReady)


def error_body(exc: BaseException) -> dict[str, str]:
    """The error a job shows: type and message, never a traceback (no secrets leave)."""
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return {"type": type(exc).__name__, "message": str(message)[:2000]}
