"""The architecture as facts: what the catalogue, the settings and (when a gateway is running)
its metrics say. Every export format renders these same facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from switchboard import __version__
from switchboard.catalogue import Catalogue
from switchboard.config import Settings
from switchboard.export.live import LiveFigures, from_families

if TYPE_CHECKING:
    from switchboard.gateway import Gateway


@dataclass(frozen=True, slots=True)
class Deployment:
    id: str
    model: str  # the public model it serves
    provider: str
    upstream_model: str
    endpoint: str
    price_in: float  # USD per 1M tokens
    price_out: float
    rpm: int | None
    tpm: int | None
    timeout_s: float


@dataclass(frozen=True, slots=True)
class Model:
    name: str
    strategy: str
    deployments: list[str]
    fallbacks: list[str]
    tiers: dict[str, str]  # complexity router: tier -> model; empty for a plain model
    classifier: str | None


@dataclass(frozen=True, slots=True)
class Architecture:
    generated_at: datetime
    version: str
    catalogue_source: str
    default_model: str | None
    models: list[Model]
    deployments: list[Deployment]
    tenants: dict[str, tuple[int | None, int | None]]  # tenant -> (rpm, tpm)
    topology: list[tuple[str, str, str]]  # (component, backend, what it holds)
    settings: list[tuple[str, str, str]]  # (group, setting, value)
    live: LiveFigures | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def providers(self) -> dict[str, list[str]]:
        """Provider type -> the deployments of that type."""
        out: dict[str, list[str]] = {}
        for d in self.deployments:
            out.setdefault(d.provider, []).append(d.id)
        return out


def redact_url(url: str | None) -> str:
    """A URL without its password: documents get shared."""
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _topology(settings: Settings) -> list[tuple[str, str, str]]:
    redis = redact_url(settings.redis_url)
    database = redact_url(settings.database_url) or "sqlite:///./switchboard.db"
    return [
        ("Gateway", f"switchboard {__version__}", "stateless; any number of replicas"),
        (
            "Redis",
            redis or "none (in-process)",
            f"limits, budgets, quotas, conversations; prefix {settings.redis_prefix!r}; "
            f"when down: fail {settings.redis_down_policy}",
        ),
        ("Database", database, "API keys, daily usage, spend"),
    ]


_SETTING_GROUPS = {
    "Limits": ["max_connections", "max_body_bytes", "reserve_completion_tokens", "ws_max_queued"],
    "Retries": ["retry_rounds", "retry_backoff_s", "retry_backoff_max_s", "retry_after_max_s"],
    "Circuit breaker": [
        "breaker_window_s",
        "breaker_min_calls",
        "breaker_failure_rate",
        "breaker_cooldown_s",
    ],
    "Shutdown": ["graceful_shutdown_s", "keep_alive_timeout_s"],
    "Auth": ["auth_required"],
}


def _settings(settings: Settings) -> list[tuple[str, str, str]]:
    return [
        (
            group,
            f"SWITCHBOARD_{name.upper()}" if name != "auth_required" else "API keys required",
            str(getattr(settings, name)),
        )
        for group, names in _SETTING_GROUPS.items()
        for name in names
    ]


def from_config(
    settings: Settings, catalogue: Catalogue, live: LiveFigures | None = None
) -> Architecture:
    deployments = [
        Deployment(
            id=d.id,
            model=m.name,
            provider=d.provider,
            upstream_model=d.model,
            endpoint=redact_url(d.api_base) or d.region or "provider default",
            price_in=d.price.input,
            price_out=d.price.output,
            rpm=d.rpm,
            tpm=d.tpm,
            timeout_s=d.timeout,
        )
        for m in catalogue.models
        for d in m.deployments
    ]
    models = [
        Model(
            name=m.name,
            strategy=m.strategy if m.router is None else "complexity router",
            deployments=[d.id for d in m.deployments],
            fallbacks=list(m.fallbacks),
            tiers=(
                {
                    "simple": m.router.simple,
                    "moderate": m.router.moderate,
                    "complex": m.router.complex,
                }
                if m.router
                else {}
            ),
            classifier=m.router.classifier if m.router else None,
        )
        for m in catalogue.models
    ]
    notes = [] if live else ["No running gateway was read: live figures are not included."]
    return Architecture(
        generated_at=datetime.now(UTC),
        version=__version__,
        catalogue_source=str(settings.config) if settings.config else "embedded catalogue",
        default_model=catalogue.default_model,
        models=models,
        deployments=deployments,
        tenants={name: (t.rpm, t.tpm) for name, t in catalogue.tenants.items()},
        topology=_topology(settings),
        settings=_settings(settings),
        live=live,
        notes=notes,
    )


async def from_gateway(gateway: Gateway) -> Architecture:
    """The architecture of this running gateway: its catalogue, settings, metrics and stores."""
    stores, _ = await gateway.store_health()
    live = from_families(gateway.metrics.registry.collect(), stores)
    return from_config(gateway.settings, gateway.catalogue, live)
