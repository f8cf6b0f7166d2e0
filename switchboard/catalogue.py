"""The YAML model catalogue: public models, their deployments, prices, tiers, cache, optimizer and
SLO policy, validated by pydantic.

With no catalogue file, the catalogue holds the embedded local model as `local`, the default.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator


class Price(BaseModel):
    """USD per one million tokens."""

    model_config = ConfigDict(extra="forbid")

    input: float = Field(0.0, ge=0)
    output: float = Field(0.0, ge=0)
    cached_input: float | None = Field(None, ge=0, description="cache reads; default: input")
    cache_write_input: float | None = Field(None, ge=0, description="cache writes; default: input")


class DeploymentConfig(BaseModel):
    """One upstream that can serve a public model name."""

    model_config = ConfigDict(extra="forbid")

    provider: str
    model: str
    name: str | None = None
    api_base: str | None = None
    api_key: SecretStr | None = None
    api_version: str | None = None
    region: str | None = None
    price: Price = Field(default_factory=lambda: Price())
    timeout: float = Field(60.0, gt=0, description="total seconds for one upstream call")
    connect_timeout: float = Field(5.0, gt=0)
    first_token_timeout: float | None = Field(None, gt=0, description="streams: wait for token 1")
    weight: float = Field(1.0, gt=0)
    priority: int = Field(0, description="lower is tried first with the priority strategy")
    rpm: int | None = Field(None, ge=1, description="upstream requests/minute quota, if known")
    tpm: int | None = Field(None, ge=1, description="upstream tokens/minute quota, if known")
    headers: dict[str, str] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict, description="adapter-specific settings")
    responses_api: Literal["translate", "native"] = Field(
        "translate",
        description="POST /v1/responses: translate to a chat completion, or native: pass the "
        "body to the upstream's own /v1/responses (provider types openai, azure, vllm)",
    )

    @field_validator("api_key", mode="before")
    @classmethod
    def _resolve_secret(cls, value: object) -> object:
        """`env:VAR` reads the key from the environment so that config files hold no secrets."""
        if isinstance(value, str) and value.startswith("env:"):
            var = value[4:]
            resolved = os.environ.get(var)
            if resolved is None:
                raise ValueError(f"environment variable {var} named by api_key is not set")
            return resolved
        return value

    @property
    def id(self) -> str:
        return self.name or f"{self.provider}/{self.model}"


class TierModels(BaseModel):
    """Complexity routing: which model serves each tier of query."""

    model_config = ConfigDict(extra="forbid")

    simple: str
    moderate: str
    complex: str
    classifier: Literal["local", "llm", "embedding"] = Field(
        "local",
        description="local: the shipped feature classifier (no LLM call); llm: ask a model; "
        "embedding: logistic regression on the local MiniLM embedding (bench/routing_eval)",
    )
    classifier_model: str | None = Field(None, description="the model asked when classifier=llm")

    @model_validator(mode="after")
    def _llm_needs_model(self) -> TierModels:
        if self.classifier == "llm" and not self.classifier_model:
            raise ValueError("router.classifier llm needs router.classifier_model")
        return self


CacheLayer = Literal["exact", "semantic"]


def _exact_layer() -> list[CacheLayer]:
    return ["exact"]


class CacheConfig(BaseModel):
    """A model's reply cache (switchboard/cache/): exact, then semantic by embedding similarity.

    Off unless a model (or the catalogue's `cache:` default) has this block: a gateway that
    answers from memory must be asked to. `enabled: false` switches one model off again.
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    layers: list[CacheLayer] = Field(
        default_factory=_exact_layer,
        min_length=1,
        description="semantic: embeds the last user message",
    )
    threshold: float = Field(
        0.80, gt=0, le=1, description="semantic: least cosine similarity (bench/cache_eval)"
    )
    guard: bool = Field(True, description="semantic: refuse pairs differing in numbers, names...")
    ttl_s: int = Field(3600, ge=1, description="an entry's life; a hit never extends it")
    max_temperature: float = Field(0.3, ge=0, description="hotter requests are not cached")
    tools: bool = Field(False, description="cache requests that offer tools")
    response_format: bool = Field(False, description="cache requests with a response_format")
    scope: Literal["tenant", "global"] = Field(
        "tenant", description="tenant: entries never cross tenants; global: shared by all"
    )


class OptimizeConfig(BaseModel):
    """A model's token optimizer (switchboard/optimize/): off unless a model has this block.

    Long context is trimmed to `max_context_tokens` (oldest turns first; system messages and the
    last user message stay), counted with `tokenizer`: `o200k_base` / `cl100k_base` (shipped
    offline) or the path of the model's own `tokenizer.json`.
    """

    model_config = ConfigDict(extra="forbid")

    max_context_tokens: int | None = Field(None, ge=16, description="prompt budget; None: no trim")
    adaptive_max_tokens: bool = Field(
        False, description="set max_tokens when the client sets none (context window - prompt)"
    )
    context_window: int = Field(8192, ge=64, description="the model's window, for max_tokens")
    max_output_tokens: int = Field(1024, ge=1, description="the most adaptive max_tokens gives")
    tokenizer: str = Field("o200k_base", description="o200k_base, cl100k_base or a tokenizer.json")


class ModelConfig(BaseModel):
    """A public model name, the deployments behind it and the models to fall back to.

    A model with `router` instead of deployments classifies each query and hands it to the
    model of its tier.
    """

    model_config = ConfigDict(extra="forbid")

    name: str
    deployments: list[DeploymentConfig] = Field(default_factory=list)
    fallbacks: list[str] = Field(default_factory=list)
    strategy: Literal["weighted", "least_busy", "latency", "priority", "prefix_affinity"] = Field(
        "weighted",
        description="prefix_affinity: requests sharing a leading prefix go to the same replica "
        "(self-hosted prefix caches), within a bounded load",
    )
    affinity_prefix_chars: int = Field(
        1024, ge=64, description="prefix_affinity: leading characters (system + first user) keyed"
    )
    affinity_balance: float = Field(
        1.25, ge=1.0, description="prefix_affinity: most in-flight load a replica takes, x share"
    )
    router: TierModels | None = None
    drop_unsupported_params: bool = Field(
        False,
        description="drop request parameters a deployment cannot honour (named in the "
        "x-switchboard-dropped-params header) instead of answering 400",
    )
    cache: CacheConfig | None = None  # None: the catalogue's default (off if none)
    optimize: OptimizeConfig | None = None  # None: requests pass untouched

    @model_validator(mode="after")
    def _deployments_or_router(self) -> ModelConfig:
        if not self.deployments and self.router is None:
            raise ValueError(f"model {self.name!r} needs deployments or a router")
        if self.deployments and self.router is not None:
            raise ValueError(f"model {self.name!r} has both deployments and a router")
        return self


class TenantLimits(BaseModel):
    """Limits shared by every key of one tenant."""

    model_config = ConfigDict(extra="forbid")

    rpm: int | None = Field(None, ge=1)
    tpm: int | None = Field(None, ge=1)


Quantile = Literal["p50", "p95", "p99"]


class SloConfig(BaseModel):
    """Service-level objectives for the requests of one endpoint and model (`*`: any).

    Latency targets are over successful requests; the error rate counts 5xx answers.
    """

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, description="default: `<endpoint>:<model>`")
    endpoint: str = Field("*", description="e.g. chat.completions; `*` matches every endpoint")
    model: str = Field("*", description="a public model name; `*` matches every model")
    latency_s: dict[Quantile, float] = Field(default_factory=dict, description="p50/p95/p99 caps")
    ttft_s: dict[Quantile, float] = Field(default_factory=dict, description="time to first token")
    error_rate: float | None = Field(None, gt=0, lt=1, description="allowed fraction of 5xx")
    window_s: int = Field(300, ge=60, le=3600, description="percentiles over this window")

    @field_validator("latency_s", "ttft_s")
    @classmethod
    def _positive(cls, value: dict[str, float]) -> dict[str, float]:
        if any(v <= 0 for v in value.values()):
            raise ValueError("latency targets must be positive seconds")
        return value

    @property
    def id(self) -> str:
        return self.name or f"{self.endpoint}:{self.model}"


class Catalogue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: list[ModelConfig] = Field(min_length=1)
    default_model: str | None = None
    tenants: dict[str, TenantLimits] = Field(default_factory=dict)
    slos: list[SloConfig] | None = Field(
        None, description="unset: one objective per model with the default targets"
    )
    cache: CacheConfig | None = None  # the cache policy of models that set none

    @model_validator(mode="after")
    def _check_names(self) -> Catalogue:
        names = [m.name for m in self.models]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"model names must be unique: {sorted(dupes)}")
        ids = [d.id for m in self.models for d in m.deployments]
        dupe_ids = {i for i in ids if ids.count(i) > 1}
        if dupe_ids:
            raise ValueError(f"deployment names must be unique (set `name`): {sorted(dupe_ids)}")
        slo_ids = [o.id for o in self.slos or []]
        if len(set(slo_ids)) != len(slo_ids):
            raise ValueError(f"slo names must be unique (set `name`): {sorted(slo_ids)}")
        unknown = [o.model for o in self.slos or [] if o.model != "*" and o.model not in names]
        if unknown:
            raise ValueError(f"slos refer to unknown models: {sorted(unknown)}")
        if self.default_model is not None and self.default_model not in names:
            raise ValueError(f"default_model {self.default_model!r} is not in models")
        for m in self.models:
            targets = list(m.fallbacks)
            if m.router is not None:
                targets += [m.router.simple, m.router.moderate, m.router.complex]
                targets += [m.router.classifier_model] if m.router.classifier_model else []
            for target in targets:
                if target not in names:
                    raise ValueError(f"model {m.name!r} refers to unknown model {target!r}")
                if self.find(target) and self.find(target).router is not None:  # type: ignore[union-attr]
                    raise ValueError(f"model {m.name!r} refers to router model {target!r}")
        return self

    def find(self, name: str) -> ModelConfig | None:
        for m in self.models:
            if m.name == name:
                return m
        return None


def embedded_catalogue() -> Catalogue:
    """The catalogue used when no file is given: the embedded local model, free of charge."""
    local = DeploymentConfig(provider="local", model="smollm2-135m-instruct", name="local")
    return Catalogue(models=[ModelConfig(name="local", deployments=[local])], default_model="local")


def load_catalogue(path: str | Path | None) -> Catalogue:
    if path is None:
        return embedded_catalogue()
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return Catalogue.model_validate(data)
