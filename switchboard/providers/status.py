"""Map an upstream HTTP error status to Switchboard's ProviderError types (shared by adapters)."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

from switchboard.errors import (
    ProviderError,
    UpstreamBadRequest,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from switchboard.redaction import redact


def retry_after_seconds(headers: dict[str, str]) -> float | None:
    """Seconds to wait from `retry-after-ms`, `Retry-After` (seconds or HTTP date)."""
    lower = {k.lower(): v for k, v in headers.items()}
    if "retry-after-ms" in lower:
        try:
            return float(lower["retry-after-ms"]) / 1000.0
        except ValueError:
            pass
    value = lower.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def map_status(
    status: int,
    upstream_message: str,
    headers: dict[str, str],
    *,
    label: str,
    secrets: tuple[str, ...] = (),
) -> ProviderError:
    """The error a client sees for an upstream error status; secrets are never echoed."""
    detail = redact(upstream_message, secrets)[:500]
    if status == 429:
        return UpstreamRateLimited(
            f"upstream {label} is rate limited: {detail}",
            retry_after=retry_after_seconds(headers),
            upstream_status=status,
        )
    if status in (401, 403):
        # The gateway's own credentials were refused: not the client's fault, nothing to echo.
        return ProviderError(
            f"upstream {label} refused the gateway's credentials", upstream_status=status
        )
    if status in (408, 504, 524):
        return UpstreamTimeout(f"upstream {label} timed out: {detail}", upstream_status=status)
    if status in (400, 404, 413, 422):
        return UpstreamBadRequest(
            f"upstream {label} rejected the request: {detail}", upstream_status=status
        )
    if status in (502, 503, 529):
        return UpstreamUnavailable(
            f"upstream {label} is unavailable: {detail}", upstream_status=status
        )
    return ProviderError(
        f"upstream {label} failed with status {status}: {detail}", upstream_status=status
    )
