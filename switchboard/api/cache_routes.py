"""The reply cache's admin surface (master key): its state, and invalidation by tenant, model,
both, everything, or one entry (the `x-switchboard-cache-key` a response carried)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from switchboard.api.admin_routes import require_master_key
from switchboard.api.openai_routes import json_response
from switchboard.cache.reply_cache import ReplyCache
from switchboard.errors import InvalidRequest, NotFoundError


class CachePolicy(BaseModel):
    model: str
    layers: list[Literal["exact", "semantic"]]
    threshold: float
    guard: bool
    ttl_s: int
    max_temperature: float
    scope: Literal["tenant", "global"]


class CacheStats(BaseModel):
    object: Literal["cache.stats"]
    store: Literal["memory", "redis"]
    entries: int = Field(description="replies stored (all tenants)")
    semantic: bool = Field(description="whether the semantic layer is attached")
    vectors: int | None = Field(description="entries of the semantic index; null: no layer")
    models: list[CachePolicy]


class CacheCleared(BaseModel):
    object: Literal["cache.cleared"]
    deleted: int = Field(description="stored replies dropped")


router = APIRouter(prefix="/admin", dependencies=[Depends(require_master_key)])


def _cache(request: Request) -> ReplyCache:
    cache: ReplyCache | None = request.app.state.gateway.cache
    if cache is None:
        raise NotFoundError("No model of this gateway caches replies (see `cache:` in the docs).")
    return cache


def _name(value: str | None, param: str) -> str | None:
    if value is not None and not (0 < len(value) <= 256 and value.isprintable()):
        raise InvalidRequest(f"{param} must be 1 to 256 printable characters.", param=param)
    return value


@router.get("/cache", response_model=CacheStats, summary="The reply cache's state")
async def cache_stats(request: Request) -> Response:
    return json_response(await _cache(request).stats())


@router.delete("/cache", response_model=CacheCleared, summary="Clear cached replies")
async def clear_cache(
    request: Request,
    tenant: str | None = None,
    model: str | None = None,
    everything: bool = Query(False, alias="all"),
) -> Response:
    """By tenant, model or both; `all=true` for every entry."""
    cache = _cache(request)
    tenant, model = _name(tenant, "tenant"), _name(model, "model")
    if tenant is None and model is None and not everything:
        raise InvalidRequest("Name a tenant, a model, or all=true.", param="tenant")
    deleted = await cache.clear(tenant, model, everything=everything and not (tenant or model))
    return json_response({"object": "cache.cleared", "deleted": deleted})


@router.delete(
    "/cache/entries/{key}", response_model=CacheCleared, summary="Delete one cached reply"
)
async def delete_entry(
    request: Request, key: str, model: str, tenant: str | None = None
) -> Response:
    """`key`: a response's `x-switchboard-cache-key`; `tenant`: omitted for a global model."""
    cache = _cache(request)
    if not (0 < len(key) <= 64 and key.isalnum()):
        raise InvalidRequest("key must be the x-switchboard-cache-key of a response.", param="key")
    model_name = _name(model, "model")
    assert model_name is not None
    deleted = await cache.delete(_name(tenant, "tenant"), model_name, key)
    return json_response({"object": "cache.cleared", "deleted": int(deleted)})
