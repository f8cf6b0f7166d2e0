"""The semantic layer through the real HTTP surface, on the shipped MiniLM and the in-process
HNSW index: paraphrases hit, the guard refuses near-misses, conversations and tenants never
cross, entries expire."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from switchboard.catalogue import CacheConfig, Catalogue
from switchboard.config import Settings
from switchboard.testing.harness import BackgroundLoop, GatewayServer, MockUpstream, run_gateway

THRESHOLD = CacheConfig().threshold  # the least similarity of a semantic hit
MASTER = "mk-semantic-master-key-0123456789"


@pytest.fixture(scope="module")
def semantic(
    background: BackgroundLoop,
    mock_upstream: MockUpstream,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[GatewayServer]:
    db: Path = tmp_path_factory.mktemp("semantic") / "keys.db"
    dep = {"provider": "openai", "model": "up", "api_base": mock_upstream.url}
    both = {"layers": ["exact", "semantic"]}
    models = [
        {"name": "sem", "deployments": [{**dep, "name": "sem-dep"}], "cache": both},
        {"name": "brief", "deployments": [{**dep, "name": "brief-dep"}],
         "cache": {**both, "ttl_s": 1}},
    ]  # fmt: skip
    settings = Settings(
        catalogue=Catalogue.model_validate({"models": models}),
        master_key=MASTER,
        database_url=f"sqlite:///{db}",
    )
    with run_gateway(background, settings) as server:
        yield server


def new_key(gw: GatewayServer, tenant: str) -> str:
    resp = httpx.post(
        gw.base + "/admin/keys",
        json={"name": "semantic-test", "tenant": tenant},
        headers={"authorization": f"Bearer {MASTER}"},
    )
    assert resp.status_code == 201, resp.text
    return str(resp.json()["key"])


def ask(
    gw: GatewayServer, key: str, messages: list[dict[str, Any]], model: str = "sem"
) -> httpx.Response:
    resp = httpx.post(
        gw.url + "/chat/completions",
        json={"model": model, "messages": messages},
        headers={"authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    return resp


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def store(
    gw: GatewayServer, background: BackgroundLoop, key: str, messages: Any, **kw: Any
) -> None:
    assert ask(gw, key, messages, **kw).headers["x-switchboard-cache"] == "miss"
    background.run(gw.gateway.cache.drain())


def test_a_paraphrase_is_a_semantic_hit(
    semantic: GatewayServer, background: BackgroundLoop, mock_upstream: MockUpstream
) -> None:
    key = new_key(semantic, f"t-{uuid.uuid4().hex[:8]}")
    store(semantic, background, key, user("How do I reverse a list in Python?"))
    before = mock_upstream.stats()["chat_requests"]
    hit = ask(semantic, key, user("What's the way to reverse a Python list?"))
    assert hit.headers["x-switchboard-cache"] == "hit-semantic"
    assert THRESHOLD <= float(hit.headers["x-switchboard-cache-similarity"]) < 1.0
    assert mock_upstream.stats()["chat_requests"] == before


def test_the_guard_refuses_a_negated_question(
    semantic: GatewayServer, background: BackgroundLoop
) -> None:
    key = new_key(semantic, f"t-{uuid.uuid4().hex[:8]}")
    store(semantic, background, key, user("Is it safe to eat raw eggs?"))
    miss = ask(semantic, key, user("Is it not safe to eat raw eggs?"))
    assert miss.headers["x-switchboard-cache"] == "miss"
    metrics = httpx.get(semantic.base + "/metrics").text
    assert 'switchboard_cache_guard_rejections_total{reason="negation"}' in metrics
    assert "switchboard_cache_index_evictions 0.0" in metrics
    assert "switchboard_cache_lookup_seconds_bucket" in metrics


def test_conversations_never_cross(semantic: GatewayServer, background: BackgroundLoop) -> None:
    key = new_key(semantic, f"t-{uuid.uuid4().hex[:8]}")
    rome = [{"role": "user", "content": "Tell me about the Roman Empire."},
            {"role": "assistant", "content": "It ruled the Mediterranean."}]  # fmt: skip
    ottoman = [{"role": "user", "content": "Tell me about the Ottoman Empire."},
               {"role": "assistant", "content": "It ruled Anatolia."}]  # fmt: skip
    store(semantic, background, key, [*rome, *user("When did it fall?")])
    other = ask(semantic, key, [*ottoman, *user("When did it fall?")])
    assert other.headers["x-switchboard-cache"] == "miss"  # same words, another conversation
    system = [{"role": "system", "content": "Answer in French."}]
    assert (
        ask(semantic, key, [*system, *user("When did it fall?")]).headers["x-switchboard-cache"]
        == "miss"
    )
    again = ask(semantic, key, [*rome, *user("In which year did it fall?")])
    assert again.headers["x-switchboard-cache"] == "hit-semantic"  # same conversation


def test_tenant_b_never_gets_tenant_a_semantic_entry(
    semantic: GatewayServer, background: BackgroundLoop
) -> None:
    a, b = new_key(semantic, f"a-{uuid.uuid4().hex[:8]}"), new_key(semantic, "b-tenant")
    text = "What is the boiling point of water at sea level?"
    store(semantic, background, a, user(text))
    assert ask(semantic, b, user(text)).headers["x-switchboard-cache"] == "miss"
    # b's own miss above stored b's entry: a's and b's entries now both exist, each hit
    # only by its own tenant
    background.run(semantic.gateway.cache.drain())
    paraphrase = user("At sea level, what temperature does water boil at?")
    assert ask(semantic, a, paraphrase).headers["x-switchboard-cache"] == "hit-semantic"
    c = new_key(semantic, f"c-{uuid.uuid4().hex[:8]}")
    assert ask(semantic, c, paraphrase).headers["x-switchboard-cache"] == "miss"


def test_entries_expire_and_hits_do_not_extend_them(
    semantic: GatewayServer, background: BackgroundLoop
) -> None:
    key = new_key(semantic, f"t-{uuid.uuid4().hex[:8]}")
    text = user(f"What is a black hole? ({uuid.uuid4().hex[:6]})")
    store(semantic, background, key, text, model="brief")
    stored = time.monotonic()
    assert ask(semantic, key, text, model="brief").headers["x-switchboard-cache"] == "hit-exact"
    time.sleep(max(0.0, 1.2 - (time.monotonic() - stored)))
    assert ask(semantic, key, text, model="brief").headers["x-switchboard-cache"] == "miss"
