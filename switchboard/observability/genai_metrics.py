"""OpenTelemetry GenAI semantic-convention histograms on /metrics, inter-token latency per
model, and cost per tenant; an event subscriber beside `Metrics`, on the same registry.

Names are the OTel metric names as Prometheus spells them (dots to underscores, the unit as a
suffix): `gen_ai.client.operation.duration` (s) is `gen_ai_client_operation_duration_seconds`.
The released set is emitted by default; `OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`
adds the newer draft instruments. Buckets are those the conventions prescribe. Labels are
bounded: models and providers come from the catalogue, tenants from its `tenants:` section (any
other tenant is `other`), never a key id or client text. See docs/observability.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

from switchboard.observability.events import RequestFinished
from switchboard.observability.genai import genai_operation, genai_provider

OPT_IN_ENV = "OTEL_SEMCONV_STABILITY_OPT_IN"
LATEST_EXPERIMENTAL = "gen_ai_latest_experimental"

DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48,
                    40.96, 81.92)  # fmt: skip
TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304,
                 16777216, 67108864)  # fmt: skip
TTFT_BUCKETS = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0,
                7.5, 10.0)  # fmt: skip
PER_TOKEN_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5)
OTHER_TENANT = "other"

_BY = ["gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model",
       "gen_ai_response_model"]  # fmt: skip


def latest_experimental(environ: Mapping[str, str]) -> bool:
    values = environ.get(OPT_IN_ENV, "").split(",")
    return LATEST_EXPERIMENTAL in {v.strip().lower() for v in values}


@dataclass(slots=True)
class _Children:
    duration: Any
    input_tokens: Any
    output_tokens: Any
    ttft: Any
    per_token: Any
    itl: Any
    first_chunk: Any = None
    per_chunk: Any = None
    server_duration: Any = None


class GenAiMetrics:
    """GenAI histograms, inter-token latency and cost per tenant, fed by RequestFinished."""

    def __init__(
        self,
        registry: CollectorRegistry,
        tenants: Iterable[str] = (),
        *,
        experimental: bool = False,
    ) -> None:
        self._tenants = frozenset(tenants)
        self._experimental = experimental
        self._children: dict[tuple[str, ...], _Children] = {}
        self._errors: dict[tuple[str, ...], Any] = {}
        self._cost: dict[tuple[str, str], Any] = {}
        r = registry
        self.duration = Histogram(
            "gen_ai_client_operation_duration", "GenAI operation duration (gateway to upstream)",
            [*_BY, "error_type"], unit="seconds", buckets=DURATION_BUCKETS, registry=r,
        )  # fmt: skip
        self.tokens = Histogram(
            "gen_ai_client_token_usage", "Input and output tokens per operation ({token})",
            [*_BY, "gen_ai_token_type"], buckets=TOKEN_BUCKETS, registry=r,
        )  # fmt: skip
        self.ttft = Histogram(
            "gen_ai_server_time_to_first_token", "Time to the first token of successful streams",
            _BY, unit="seconds", buckets=TTFT_BUCKETS, registry=r,
        )  # fmt: skip
        self.per_token = Histogram(
            "gen_ai_server_time_per_output_token",
            "Time per output token after the first, successful streams",
            _BY, unit="seconds", buckets=PER_TOKEN_BUCKETS, registry=r,
        )  # fmt: skip
        self.itl = Histogram(
            "switchboard_inter_token_latency_seconds",
            "Mean time between streamed tokens after the first, per request",
            ["model"], buckets=PER_TOKEN_BUCKETS, registry=r,
        )  # fmt: skip
        self.tenant_cost = Counter(
            "switchboard_tenant_cost_usd",
            "Estimated cost in USD by tenant (configured tenants; others: `other`) and model",
            ["tenant", "model"], registry=r,
        )  # fmt: skip
        if experimental:
            self._add_experimental(r)

    def _add_experimental(self, r: CollectorRegistry) -> None:
        self.first_chunk = Histogram(
            "gen_ai_client_operation_time_to_first_chunk",
            "Time to the first chunk of a streamed response",
            _BY, unit="seconds", buckets=TTFT_BUCKETS, registry=r,
        )  # fmt: skip
        self.per_chunk = Histogram(
            "gen_ai_client_operation_time_per_output_chunk",
            "Mean time per output chunk after the first, per streamed response",
            _BY, unit="seconds", buckets=PER_TOKEN_BUCKETS, registry=r,
        )  # fmt: skip
        self.server_duration = Histogram(
            "gen_ai_server_request_duration", "Request duration as the gateway served it",
            [*_BY, "error_type"], unit="seconds", buckets=DURATION_BUCKETS, registry=r,
        )  # fmt: skip

    def request_started(self, endpoint: str) -> None:
        pass

    def request_finished(self, event: RequestFinished) -> None:
        if event.deployment is None:
            return  # no upstream operation happened
        labels = (
            genai_operation(event.endpoint),
            genai_provider(event.provider),
            event.model,
            event.response_model or event.model,
        )
        found = self._children.get(labels)
        if found is None:
            found = self._children[labels] = self._new_children(labels)
        ok = event.status < 400
        if ok:
            found.duration.observe(event.latency_s)
            if found.server_duration is not None:
                found.server_duration.labels(*labels, "").observe(event.latency_s)
        else:
            self._error_child(labels, event).observe(event.latency_s)
        usage = event.usage
        if usage is not None:
            found.input_tokens.observe(usage.prompt_tokens)
            found.output_tokens.observe(usage.completion_tokens)
        if ok and event.ttft_s is not None:
            self._streamed(found, event)
        if event.cost_usd and event.tenant is not None:
            self._tenant_cost(event.tenant, event.model).inc(event.cost_usd)

    def _streamed(self, found: _Children, event: RequestFinished) -> None:
        ttft = event.ttft_s
        assert ttft is not None
        found.ttft.observe(ttft)
        if found.first_chunk is not None:
            found.first_chunk.observe(ttft)
        tokens = event.usage.completion_tokens if event.usage is not None else 0
        if tokens > 1:
            per_token = max(0.0, event.latency_s - ttft) / (tokens - 1)
            found.per_token.observe(per_token)
            found.itl.observe(per_token)
            if found.per_chunk is not None:
                found.per_chunk.observe(per_token)

    def _new_children(self, labels: tuple[str, ...]) -> _Children:
        children = _Children(
            duration=self.duration.labels(*labels, ""),
            input_tokens=self.tokens.labels(*labels, "input"),
            output_tokens=self.tokens.labels(*labels, "output"),
            ttft=self.ttft.labels(*labels),
            per_token=self.per_token.labels(*labels),
            itl=self.itl.labels(labels[2]),
        )
        if self._experimental:
            children.first_chunk = self.first_chunk.labels(*labels)
            children.per_chunk = self.per_chunk.labels(*labels)
            children.server_duration = self.server_duration
        return children

    def _error_child(self, labels: tuple[str, ...], event: RequestFinished) -> Any:
        # error.type: the status class keeps it bounded (outcome codes come from upstreams)
        error = str(event.status) if event.status in (429, 499) else f"{event.status // 100}xx"
        key = (*labels, error)
        found = self._errors.get(key)
        if found is None:
            found = self._errors[key] = self.duration.labels(*key)
        if self._experimental:
            self.server_duration.labels(*key).observe(event.latency_s)
        return found

    def _tenant_cost(self, tenant: str, model: str) -> Any:
        label = tenant if tenant in self._tenants else OTHER_TENANT
        found = self._cost.get((label, model))
        if found is None:
            found = self._cost[(label, model)] = self.tenant_cost.labels(label, model)
        return found
