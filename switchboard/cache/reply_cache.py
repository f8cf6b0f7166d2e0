"""ReplyCache: the policy per model, the two layers, and writes that never delay a reply.

Lookup: the exact layer (one read), then, when the model's policy turns it on, the semantic
layer (embed, search, read back, check context and guard). Writes run as tasks of their own
once the reply is complete (an embedding takes milliseconds), drained at shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal

from switchboard.cache.entry import CachedReply
from switchboard.cache.guard import differs
from switchboard.cache.keys import RequestKeys
from switchboard.cache.semantic import SemanticLayer
from switchboard.cache.store import InMemoryReplyStore, ReplyStore
from switchboard.catalogue import CacheConfig, Catalogue
from switchboard.domain import ChatRequest

log = logging.getLogger("switchboard.cache")
GLOBAL_SCOPE = "global"
_POLICY_FIELDS = {"layers", "threshold", "guard", "ttl_s", "max_temperature", "scope"}


@dataclass(frozen=True, slots=True)
class Hit:
    entry: CachedReply
    layer: Literal["exact", "semantic"]
    similarity: float | None = None


def scope_of(policy: CacheConfig, tenant: str | None) -> str:
    """A tenant's own entries (`default` when API keys are off), unless the model shares."""
    return GLOBAL_SCOPE if policy.scope == "global" else f"tenant:{tenant or 'default'}"


def uncacheable(request: ChatRequest, policy: CacheConfig) -> str | None:
    """Why the policy keeps this request out of the cache (None: it may be cached)."""
    if request.temperature is not None and request.temperature > policy.max_temperature:
        return "temperature"
    if request.native is not None and request.native.untranslated is not None:
        return "untranslated"  # its chat translation left part of the request out
    params = request.params
    if not policy.tools and ("tools" in params or "functions" in params):
        return "tools"
    if not policy.response_format and "response_format" in params:
        return "response_format"
    return None


def native_models(catalogue: Catalogue) -> set[str]:
    """Models with a `responses_api: native` deployment, their own or a fallback's or tier's."""
    by_name = {m.name: m for m in catalogue.models}
    native = {
        m.name for m in catalogue.models if any(d.responses_api == "native" for d in m.deployments)
    }
    out = set(native)
    for m in catalogue.models:
        tiers = [m.router.simple, m.router.moderate, m.router.complex] if m.router else []
        if any(name in native for name in [*m.fallbacks, *tiers] if name in by_name):
            out.add(m.name)
    return out


class ReplyCache:
    def __init__(
        self,
        catalogue: Catalogue,
        store: ReplyStore,
        semantic: SemanticLayer | None = None,
        on_error: Callable[[str], None] | None = None,
        on_guard: Callable[[str], None] | None = None,
    ) -> None:
        self._policies: dict[str, CacheConfig] = {}
        for m in catalogue.models:
            policy = m.cache if m.cache is not None else catalogue.cache
            if policy is not None and policy.enabled:
                self._policies[m.name] = policy
        self.models = [m.name for m in catalogue.models]
        self._native = native_models(catalogue)
        self.store = store
        self.semantic = semantic
        self._on_error = on_error
        self._on_guard = on_guard
        self._pending: set[asyncio.Task[None]] = set()

    @staticmethod
    def wanted(catalogue: Catalogue) -> bool:
        """Whether any model caches (else the gateway builds no cache at all)."""
        policies = [m.cache if m.cache is not None else catalogue.cache for m in catalogue.models]
        return any(p is not None and p.enabled for p in policies)

    @staticmethod
    def semantic_wanted(catalogue: Catalogue) -> bool:
        policies = [m.cache if m.cache is not None else catalogue.cache for m in catalogue.models]
        return any(p is not None and p.enabled and "semantic" in p.layers for p in policies)

    def policy_for(self, model: str) -> CacheConfig | None:
        return self._policies.get(model)

    def passes_through(self, request: ChatRequest) -> bool:
        """A Responses request that a native deployment may answer: its reply is the upstream's
        own object (its id, its state), which a cache must not hand to another request."""
        return request.native is not None and request.model in self._native

    async def lookup(
        self, scope: str, model: str, keys: RequestKeys, policy: CacheConfig
    ) -> Hit | None:
        if "exact" in policy.layers:
            entry = await self._read(scope, model, keys.exact)
            if entry is not None:
                return Hit(entry, "exact")
        if self.semantic is None or "semantic" not in policy.layers or keys.query is None:
            return None
        for candidate in await self.semantic.find(scope, model, keys.query, policy.threshold):
            entry = await self._read(scope, model, candidate.id)
            if entry is None or entry.context != keys.context or entry.query is None:
                continue
            if policy.guard:
                reason = differs(keys.query, entry.query)
                if reason is not None:
                    if self._on_guard is not None:
                        self._on_guard(reason)
                    continue
            return Hit(entry, "semantic", candidate.similarity)
        return None

    async def _read(self, scope: str, model: str, key: str) -> CachedReply | None:
        try:
            raw = await self.store.get(scope, model, key)
            return None if raw is None else CachedReply.loads(raw)
        except Exception as exc:
            log.warning("cache read failed (%s); a miss", type(exc).__name__)
            self._error("store")
            return None

    def keep(self, scope: str, keys: RequestKeys, policy: CacheConfig, entry: CachedReply) -> None:
        """Store a complete reply in the background: the client never waits for it."""
        self._track(self._write(scope, keys, policy, entry))

    async def _write(
        self, scope: str, keys: RequestKeys, policy: CacheConfig, entry: CachedReply
    ) -> None:
        entry.stored_at = time.time()
        try:
            await self.store.put(scope, entry.model, keys.exact, entry.dumps(), policy.ttl_s)
        except Exception as exc:
            log.warning("cache write failed (%s)", type(exc).__name__)
            self._error("store")
            return
        if self.semantic is not None and "semantic" in policy.layers and keys.query is not None:
            await self.semantic.add(scope, entry.model, keys.exact, keys.query, policy.ttl_s)

    def _track(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def drain(self) -> None:
        """Wait for the writes in flight (at shutdown, and in tests)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def clear(
        self, tenant: str | None = None, model: str | None = None, *, everything: bool = False
    ) -> int:
        """Drop a tenant's entries, a model's, both, or (`everything`) all of them."""
        if tenant is None and model is None and not everything:
            raise ValueError("say which entries to clear")
        scope = None if tenant is None else f"tenant:{tenant}"
        dropped = await self.store.clear(scope, model)
        if self.semantic is not None:
            if everything:
                await self.semantic.index.clear(None)
            elif scope is not None:
                await self.semantic.clear([scope], [model] if model else self.models)
            # a model across tenants: the vectors left point at nothing and expire with their TTL
        return dropped

    async def delete(self, tenant: str | None, model: str, key: str) -> bool:
        scope = GLOBAL_SCOPE if tenant is None else f"tenant:{tenant}"
        return await self.store.delete(scope, model, key)

    async def count(self) -> int:
        return await self.store.count()

    async def stats(self) -> dict[str, Any]:
        """What `GET /admin/cache` reports."""
        vectors = await self.semantic.index.count() if self.semantic is not None else None
        models = [
            {"model": name, **p.model_dump(include=_POLICY_FIELDS)}
            for name, p in self._policies.items()
        ]
        return {
            "object": "cache.stats",
            "store": "memory" if isinstance(self.store, InMemoryReplyStore) else "redis",
            "entries": await self.store.count(),
            "semantic": self.semantic is not None,
            "vectors": vectors,
            "models": models,
        }

    async def aclose(self) -> None:
        await self.drain()
        if self.semantic is not None:
            await self.semantic.aclose()
        await self.store.aclose()

    def _error(self, part: str) -> None:
        if self._on_error is not None:
            self._on_error(part)
