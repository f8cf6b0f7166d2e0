"""What a new key may ask for: the one validation shared by `keys create` and `POST /admin/keys`.

The bounds keep every value inside what the stores can hold: limits fit a 32-bit integer column
and the Lua limit scripts, a budget fits the nano-dollar BIGINT column, an expiry stays a valid
datetime after conversion to UTC. Text never holds NUL, which PostgreSQL refuses in `text`.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from switchboard.keys.models import BudgetPeriod, NewKey

MAX_LIMIT = 10**9
"""Largest rpm, tpm or max_concurrency: fits int32 columns and Redis/Lua integer arithmetic."""
MAX_BUDGET_USD = 10**9
"""Largest budget, in USD: 10^18 nano-dollars, inside a signed 64-bit column."""
MAX_EXPIRY_YEAR = 9998
"""Last year an expiry may fall in, after conversion to UTC."""
MAX_TEXT = 200
MAX_MODELS = 1000


def check_text(value: str, name: str, max_length: int = MAX_TEXT) -> str:
    """Text stored in or looked up in the key database: no NUL, no longer than the columns."""
    if "\x00" in value:
        raise ValueError(f"{name} must not contain NUL characters")
    if len(value) > max_length:
        raise ValueError(f"{name} must be at most {max_length} characters")
    return value


def _text(value: str) -> str:
    return check_text(value, "text")


def _expiry(value: datetime) -> datetime:
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"expires_at must fall in year {MAX_EXPIRY_YEAR} or before") from None
    if utc.year > MAX_EXPIRY_YEAR:
        raise ValueError(f"expires_at must fall in year {MAX_EXPIRY_YEAR} or before")
    if utc <= datetime.now(UTC):
        raise ValueError("expires_at is in the past")
    return utc


Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT), AfterValidator(_text)]
Limit = Annotated[int, Field(strict=True, ge=1, le=MAX_LIMIT)]
Budget = Annotated[float, Field(strict=True, ge=0, le=MAX_BUDGET_USD, allow_inf_nan=False)]
Expiry = Annotated[AwareDatetime, AfterValidator(_expiry)]


class KeySpec(BaseModel):
    """The body of `POST /admin/keys`, and what `keys create` builds from its options."""

    model_config = ConfigDict(extra="forbid")

    name: Text
    tenant: Text
    allowed_models: list[Text] | None = Field(None, max_length=MAX_MODELS)
    rpm: Limit | None = None
    tpm: Limit | None = None
    max_concurrency: Limit | None = None
    budget_usd: Budget | None = None
    budget_period: BudgetPeriod = "total"
    expires_at: Expiry | None = None

    def to_new_key(self) -> NewKey:
        models = tuple(self.allowed_models) if self.allowed_models is not None else None
        return NewKey(
            name=self.name,
            tenant=self.tenant,
            allowed_models=models,
            rpm=self.rpm,
            tpm=self.tpm,
            max_concurrency=self.max_concurrency,
            budget_usd=self.budget_usd,
            budget_period=self.budget_period,
            expires_at=self.expires_at,
        )


def expiry_in_days(days: float, now: datetime) -> datetime:
    """`now + days`, refusing values that no datetime can hold."""
    if not math.isfinite(days):
        raise ValueError("the number of days must be finite")
    try:
        return now + timedelta(days=days)
    except OverflowError:
        raise ValueError(f"expires_at must fall in year {MAX_EXPIRY_YEAR} or before") from None


def describe(exc: ValidationError) -> str:
    """One line per problem, naming the field: for the CLI's stderr."""
    lines = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error.get("loc", ())) or "body"
        lines.append(f"{field}: {error.get('msg', 'invalid value')}")
    return "; ".join(lines)
