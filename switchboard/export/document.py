"""The document's content, independent of format: titled sections of paragraphs and tables.
Each format module only lays these out."""

from __future__ import annotations

from dataclasses import dataclass, field

from switchboard.export.facts import Architecture

TITLE = "Switchboard production architecture"


@dataclass(frozen=True, slots=True)
class Table:
    headers: list[str]
    rows: list[list[str]]


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    table: Table | None = None
    diagram: bool = False  # the topology diagram belongs here


def _ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1000:.0f} ms"


def _opt(value: int | None) -> str:
    return "-" if value is None else str(value)


def overview(arch: Architecture) -> Section:
    stamp = arch.generated_at.strftime("%Y-%m-%d %H:%M UTC")
    paragraphs = [
        f"Generated {stamp} by switchboard {arch.version} from {arch.catalogue_source}.",
        f"{len(arch.models)} public models over {len(arch.deployments)} deployments of "
        f"{len(arch.providers)} provider types; default model: {arch.default_model or 'none'}.",
        *arch.notes,
    ]
    table = Table(["Component", "Backend", "Holds"], [list(row) for row in arch.topology])
    return Section("Overview and topology", paragraphs, table, diagram=True)


def models(arch: Architecture) -> Section:
    rows = [
        [
            m.name,
            m.strategy,
            ", ".join(m.deployments) or "-",
            " -> ".join(m.fallbacks) or "-",
            ", ".join(f"{tier}: {target}" for tier, target in m.tiers.items()) or "-",
        ]
        for m in arch.models
    ]
    text = ["A request tries the model's deployments, then each fallback model in order."]
    return Section(
        "Models, fallback chains and routing tiers",
        text,
        Table(["Model", "Strategy", "Deployments", "Fallbacks", "Router tiers"], rows),
    )


def deployments(arch: Architecture) -> Section:
    circuits = arch.live.circuits if arch.live else {}
    rows = [
        [
            d.id,
            d.model,
            d.provider,
            d.upstream_model,
            d.endpoint,
            f"{d.price_in:g}",
            f"{d.price_out:g}",
            _opt(d.rpm),
            _opt(d.tpm),
            circuits.get(d.id, "n/a"),
        ]
        for d in arch.deployments
    ]
    headers = ["Deployment", "Model", "Provider", "Upstream model", "Endpoint"]
    headers += ["$/1M in", "$/1M out", "RPM quota", "TPM quota", "Circuit"]
    return Section("Deployments, providers and costs", [], Table(headers, rows))


def measured(arch: Architecture) -> Section:
    if arch.live is None or not arch.live.models:
        return Section("Measured latency and cost", ["No requests measured yet."])
    rows = [
        [
            name,
            str(f.requests),
            str(f.errors),
            *(_ms(q) for q in f.latency),
            _ms(f.ttft[1]),
            f"{f.cost_usd:.4f}",
        ]
        for name, f in arch.live.models.items()
    ]
    headers = ["Model", "Requests", "5xx", "p50", "p95", "p99", "TTFT p95", "Cost USD"]
    stores = ", ".join(f"{k}: {'up' if v else 'DOWN'}" for k, v in arch.live.stores.items())
    text = ["Since the gateway started (its Prometheus histograms)."]
    return Section(
        "Measured latency and cost",
        text + ([f"Stores: {stores}."] if stores else []),
        Table(headers, rows),
    )


def limits(arch: Architecture) -> Section:
    rows = [list(row) for row in arch.settings]
    rows += [
        [f"Tenant {t}", "rpm / tpm", f"{_opt(r)} / {_opt(k)}"] for t, (r, k) in arch.tenants.items()
    ]
    text = ["Per-key rate limits and spend budgets live in the key store (admin API /admin/keys)."]
    return Section(
        "Limits, budgets and resilience", text, Table(["Group", "Setting", "Value"], rows)
    )


def sections(arch: Architecture) -> list[Section]:
    return [overview(arch), models(arch), deployments(arch), measured(arch), limits(arch)]
