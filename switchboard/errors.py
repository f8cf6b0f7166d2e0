"""The one exception tree of Switchboard, each error carrying its HTTP status.

SwitchboardError                      every error a client may see, rendered once in api/errors.py
├── InvalidRequest          400       malformed JSON, bad field values (names the field in `param`)
│   └── UnsupportedOperation 400      e.g. embeddings on a model whose provider has none
├── AuthenticationFailed    401       missing, unknown, revoked or expired API key
├── PermissionDenied        403       the key may not use this model (or admin route)
├── BudgetExceeded          402       the key's spend budget would be exceeded
├── RateLimited             429       the key's / tenant's own limits (with x-ratelimit-* headers)
├── NotFoundError           404       a resource that does not exist (or is switched off)
│   └── ModelNotFound       404       the model name is not in the catalogue
├── Conflict                409       e.g. an Idempotency-Key reused for a different request
├── PayloadTooLarge         413       request body over the configured limit
├── ClientClosedRequest     499       the client went away before the reply (never delivered)
├── ServiceNotReady         503       a component (e.g. the local model) failed to load
│   └── NoHealthyDeployment 503       every deployment of the model is open-circuited
└── ProviderError           502       the upstream failed; provider secrets never reach `message`
    ├── UpstreamRateLimited 429       keeps the upstream's Retry-After
    ├── UpstreamTimeout     504
    ├── UpstreamUnavailable 502       connection refused / reset
    ├── UpstreamBadRequest  400       the upstream rejected the request itself (client's fault)
    └── StreamInterrupted   502       a stream broke after bytes reached the client
"""

from __future__ import annotations

import math


class SwitchboardError(Exception):
    """Base of every error rendered to clients in the OpenAI error envelope."""

    status: int = 500
    type: str = "server_error"
    code: str | None = None

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code
        self.retry_after = retry_after
        self.headers: dict[str, str] = dict(headers or {})
        if retry_after is not None:
            self.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))


class InvalidRequest(SwitchboardError):
    status = 400
    type = "invalid_request_error"


class UnsupportedOperation(InvalidRequest):
    code = "unsupported_operation"


class AuthenticationFailed(SwitchboardError):
    status = 401
    type = "authentication_error"
    code = "invalid_api_key"


class PermissionDenied(SwitchboardError):
    status = 403
    type = "permission_error"
    code = "model_not_allowed"


class BudgetExceeded(SwitchboardError):
    status = 402
    type = "insufficient_quota"
    code = "budget_exceeded"


class RateLimited(SwitchboardError):
    status = 429
    type = "rate_limit_error"
    code = "rate_limit_exceeded"


class NotFoundError(SwitchboardError):
    status = 404
    type = "invalid_request_error"
    code = "not_found"


class ModelNotFound(NotFoundError):
    code = "model_not_found"


class Conflict(SwitchboardError):
    status = 409
    type = "invalid_request_error"
    code = "conflict"


class PayloadTooLarge(SwitchboardError):
    status = 413
    type = "invalid_request_error"
    code = "request_too_large"


class ClientClosedRequest(SwitchboardError):
    status = 499  # nginx's convention
    type = "invalid_request_error"
    code = "client_closed_request"


class ServiceNotReady(SwitchboardError):
    status = 503
    type = "server_error"
    code = "service_unavailable"


class NoHealthyDeployment(ServiceNotReady):
    code = "no_healthy_deployment"


class ProviderError(SwitchboardError):
    """The upstream provider failed; `retryable` tells resilience stages whether to try again."""

    status = 502
    type = "upstream_error"
    code = "upstream_error"
    retryable = True

    def __init__(
        self,
        message: str,
        *,
        upstream_status: int | None = None,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, param=param, code=code, headers=headers, retry_after=retry_after)
        self.upstream_status = upstream_status


class UpstreamRateLimited(ProviderError):
    status = 429
    type = "rate_limit_error"
    code = "rate_limit_exceeded"

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, retry_after=retry_after or None, **kw)  # type: ignore[arg-type]


class UpstreamTimeout(ProviderError):
    status = 504
    type = "timeout_error"
    code = "upstream_timeout"


class UpstreamUnavailable(ProviderError):
    status = 502
    code = "upstream_unavailable"


class UpstreamBadRequest(ProviderError):
    status = 400
    type = "invalid_request_error"
    code = "upstream_rejected_request"
    retryable = False


class StreamInterrupted(ProviderError):
    status = 502
    code = "stream_interrupted"
