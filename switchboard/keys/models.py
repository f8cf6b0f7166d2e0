"""What an API key and a usage record are, as plain dataclasses (no I/O, no SQL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, get_args

KeyStatus = Literal["active", "revoked", "expired"]
BudgetPeriod = Literal["total", "daily", "monthly"]
BUDGET_PERIODS: tuple[str, ...] = get_args(BudgetPeriod)


def _check_aware(name: str, value: datetime | None) -> None:
    if value is not None and value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def _check_positive(name: str, value: int | None) -> None:
    if value is not None and value < 1:
        raise ValueError(f"{name} must be at least 1")


@dataclass(frozen=True)
class NewKey:
    """What the caller asks for; the store adds id, secret, prefix and timestamps."""

    name: str
    tenant: str
    allowed_models: tuple[str, ...] | None = None
    rpm: int | None = None
    tpm: int | None = None
    max_concurrency: int | None = None
    budget_usd: float | None = None
    budget_period: BudgetPeriod = "total"
    expires_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.name or not self.tenant:
            raise ValueError("name and tenant must not be empty")
        if self.budget_period not in BUDGET_PERIODS:
            raise ValueError(f"budget_period must be one of {BUDGET_PERIODS}")
        if self.budget_usd is not None and self.budget_usd < 0:
            raise ValueError("budget_usd must not be negative")
        _check_positive("rpm", self.rpm)
        _check_positive("tpm", self.tpm)
        _check_positive("max_concurrency", self.max_concurrency)
        _check_aware("expires_at", self.expires_at)


@dataclass(frozen=True)
class ApiKey:
    """A stored key, without its secret. `allowed_models=None` means every model."""

    id: str
    name: str
    tenant: str
    prefix: str
    allowed_models: tuple[str, ...] | None
    rpm: int | None
    tpm: int | None
    max_concurrency: int | None
    budget_usd: float | None
    budget_period: BudgetPeriod
    expires_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime

    def status(self, now: datetime) -> KeyStatus:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and now >= self.expires_at:
            return "expired"
        return "active"

    def allows_model(self, name: str) -> bool:
        return self.allowed_models is None or name in self.allowed_models

    def budget_window_start(self, today: date) -> date | None:
        """First day whose spend counts against the budget (None: since the beginning)."""
        if self.budget_period == "daily":
            return today
        if self.budget_period == "monthly":
            return today.replace(day=1)
        return None


@dataclass(frozen=True)
class UsageRow:
    """Usage of one key on one model on one UTC day; also one increment to add."""

    key_id: str
    tenant: str
    model: str
    day: date
    requests: int = 1
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: float = 0.0
    cache_hits: int = 0  # requests answered by the reply cache (cost 0)
    saved_usd: float = 0.0  # what those would have cost at the deployment picked first
    session_id: str = ""  # the caller's session, when it named one (usage_sessions)
    user_id: str = ""  # the caller's end user, when it named one


def key_json(key: ApiKey, now: datetime) -> dict[str, Any]:
    """The public view of a key (HTTP and CLI): never the secret, never its hash."""

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "object": "api_key",
        "id": key.id,
        "name": key.name,
        "tenant": key.tenant,
        "prefix": key.prefix,
        "status": key.status(now),
        "allowed_models": list(key.allowed_models) if key.allowed_models is not None else None,
        "rpm": key.rpm,
        "tpm": key.tpm,
        "max_concurrency": key.max_concurrency,
        "budget_usd": key.budget_usd,
        "budget_period": key.budget_period,
        "expires_at": iso(key.expires_at),
        "revoked_at": iso(key.revoked_at),
        "created_at": iso(key.created_at),
    }
