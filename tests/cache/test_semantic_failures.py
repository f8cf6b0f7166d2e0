"""The semantic layer fails open: an embedder that cannot load gives misses, each counted,
logged once a minute, and the exact layer keeps answering."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from switchboard.cache.entry import CachedReply
from switchboard.cache.keys import request_keys
from switchboard.cache.reply_cache import ReplyCache
from switchboard.cache.semantic import SemanticLayer
from switchboard.cache.store import InMemoryReplyStore
from switchboard.catalogue import CacheConfig, Catalogue
from switchboard.domain import ChatRequest, ChatResponse, Choice, Message
from switchboard.embeddings.local import LocalEmbedder
from switchboard.vectors.hnsw import HnswIndex


async def test_a_broken_embedder_serves_misses_counted_and_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    embedder = LocalEmbedder(tmp_path / "no-model-here")  # fails to load, as a missing extra
    errors: list[str] = []
    index = HnswIndex()
    semantic = SemanticLayer(embedder, index, on_error=errors.append)
    catalogue = Catalogue.model_validate(
        {"models": [{"name": "m", "deployments": [{"provider": "local", "model": "x"}]}]}
    )
    cache = ReplyCache(catalogue, InMemoryReplyStore(100, 1 << 20), semantic)
    policy = CacheConfig(layers=["exact", "semantic"])
    keys = request_keys("m", ChatRequest("m", [Message("user", "What is DNS?")]))
    reply = ChatResponse("id", 0, "m", [Choice(0, "A naming system.", "stop")])
    with caplog.at_level(logging.WARNING, logger="switchboard.cache"):
        cache.keep("scope", keys, policy, CachedReply(reply, "m", keys.context, keys.query))
        await cache.drain()
        other = request_keys("m", ChatRequest("m", [Message("user", "Explain DNS")]))
        for _ in range(3):
            assert await cache.lookup("scope", "m", other, policy) is None
        hit = await cache.lookup("scope", "m", keys, policy)
    assert hit is not None and hit.layer == "exact"  # the exact layer does not need it
    assert errors == ["embedder"] * 4  # the write's embedding and three lookups
    warnings = [r for r in caplog.records if "semantic cache" in r.getMessage()]
    assert len(warnings) == 1
    await index.aclose()
    await embedder.aclose()
