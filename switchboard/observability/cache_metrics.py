"""The reply cache's Prometheus series, on the gateway's registry (Metrics.cache)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from switchboard.observability.events import RequestFinished

_LOOKUP_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1)


class CacheMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.lookups = Counter(
            "switchboard_cache_lookups",
            "Cache outcomes by model: hit-exact, hit-semantic, miss, bypass",
            ["model", "outcome"],
            registry=r,
        )
        self.lookup_seconds = Histogram(
            "switchboard_cache_lookup_seconds",
            "Time to look a request up, by the layer that answered (exact, semantic, miss)",
            ["layer"],
            buckets=_LOOKUP_BUCKETS,
            registry=r,
        )
        self.entries = Gauge(
            "switchboard_cache_entries", "Replies held by the in-process cache", registry=r
        )
        self.evictions = Counter(
            "switchboard_cache_evictions", "Entries dropped by the cache's size bound", registry=r
        )
        self.index_evictions = Gauge(
            "switchboard_cache_index_evictions",
            "Vectors the semantic index dropped for its size bound since start-up",
            registry=r,
        )
        self.saved_tokens = Counter(
            "switchboard_cache_saved_tokens",
            "Tokens not spent upstream thanks to cache hits",
            ["model"],
            registry=r,
        )
        self.saved_cost = Counter(
            "switchboard_cache_saved_cost_usd",
            "Cost not spent upstream thanks to cache hits, at the deployment the route picks first",
            ["model"],
            registry=r,
        )
        self.errors = Counter(
            "switchboard_cache_errors",
            "Cache parts that failed (the request was served as a miss): store, vectors, embedder",
            ["part"],
            registry=r,
        )
        self.guard_rejections = Counter(
            "switchboard_cache_guard_rejections",
            "Semantic matches the false-hit guard refused, by reason",
            ["reason"],
            registry=r,
        )

    def watch_entries(self, count: Callable[[], float]) -> None:
        self.entries.set_function(count)

    def watch_index_evictions(self, evicted: Callable[[], float]) -> None:
        """The semantic index's own size bound (its count since start-up, read at scrape)."""
        self.index_evictions.set_function(evicted)

    def finished(self, event: RequestFinished, model: str) -> None:
        outcome = event.cache
        if outcome is None:
            return
        self.lookups.labels(model, outcome).inc()
        if event.saved_tokens:
            self.saved_tokens.labels(model).inc(event.saved_tokens)
        if event.saved_usd:
            self.saved_cost.labels(model).inc(event.saved_usd)
