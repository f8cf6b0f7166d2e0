"""The exact cache layer through the real HTTP surface: hits, headers, directives, tenants and
billing (a hit counts for RPM, costs nothing against TPM or budget)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from switchboard.catalogue import Catalogue
from switchboard.config import Settings
from switchboard.testing.harness import BackgroundLoop, GatewayServer, MockUpstream, run_gateway

MASTER = "mk-cache-master-key-0123456789"


@pytest.fixture(scope="module")
def cached(
    background: BackgroundLoop,
    mock_upstream: MockUpstream,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[GatewayServer]:
    db: Path = tmp_path_factory.mktemp("cache") / "keys.db"
    dep = {"provider": "openai", "model": "up", "api_base": mock_upstream.url}
    price = {"input": 1.0, "output": 2.0}
    models = [
        {"name": "cached", "deployments": [{**dep, "name": "c-dep", "price": price}],
         "cache": {"ttl_s": 600}},
        {"name": "shared", "deployments": [{**dep, "name": "s-dep", "price": price}],
         "cache": {"scope": "global"}},
        {"name": "plain", "deployments": [{**dep, "name": "p-dep", "price": price}]},
    ]  # fmt: skip
    settings = Settings(
        catalogue=Catalogue.model_validate({"models": models}),
        master_key=MASTER,
        database_url=f"sqlite:///{db}",
    )
    with run_gateway(background, settings) as server:
        yield server


def new_key(gw: GatewayServer, tenant: str, **spec: Any) -> str:
    body = {"name": "cache-test", "tenant": tenant, **spec}
    resp = httpx.post(
        gw.base + "/admin/keys", json=body, headers={"authorization": f"Bearer {MASTER}"}
    )
    assert resp.status_code == 201, resp.text
    return str(resp.json()["key"])


def chat(
    gw: GatewayServer,
    key: str,
    text: str,
    model: str = "cached",
    headers: dict[str, str] | None = None,
    **kw: Any,
) -> httpx.Response:
    body = {"model": model, "messages": [{"role": "user", "content": text}], **kw}
    resp = httpx.post(
        gw.url + "/chat/completions",
        json=body,
        headers={"authorization": f"Bearer {key}", **(headers or {})},
        timeout=15,
    )
    assert resp.status_code == 200, resp.text
    return resp


def upstream_calls(up: MockUpstream) -> int:
    return int(up.stats()["chat_requests"])


def test_second_identical_request_is_an_exact_hit(
    cached: GatewayServer, mock_upstream: MockUpstream, background: BackgroundLoop
) -> None:
    key = new_key(cached, "acme")
    text = f"what is a cache? {uuid.uuid4().hex}"
    first = chat(cached, key, text, temperature=0)
    assert first.headers["x-switchboard-cache"] == "miss"
    background.run(cached.gateway.cache.drain())
    before = upstream_calls(mock_upstream)
    second = chat(cached, key, text, temperature=0)
    assert second.headers["x-switchboard-cache"] == "hit-exact"
    assert "x-switchboard-cache-similarity" not in second.headers
    assert upstream_calls(mock_upstream) == before  # the model was not asked
    a, b = first.json(), second.json()
    assert b["choices"] == a["choices"] and b["usage"] == a["usage"]
    assert b["id"] != a["id"]  # each reply has an id of its own


def test_answer_changing_parameters_are_part_of_the_key(
    cached: GatewayServer, background: BackgroundLoop
) -> None:
    key = new_key(cached, "acme")
    text = f"params {uuid.uuid4().hex}"
    chat(cached, key, text, temperature=0, max_tokens=5)
    background.run(cached.gateway.cache.drain())
    assert (
        chat(cached, key, text, temperature=0, max_tokens=6).headers["x-switchboard-cache"]
        == "miss"
    )
    assert (
        chat(cached, key, text, temperature=0.2, max_tokens=5).headers["x-switchboard-cache"]
        == "miss"
    )
    hit = chat(cached, key, text, temperature=0, max_tokens=5, user="someone-else")
    assert hit.headers["x-switchboard-cache"] == "hit-exact"  # `user` does not change the answer


def test_tenant_b_never_gets_tenant_a_entry(
    cached: GatewayServer, mock_upstream: MockUpstream, background: BackgroundLoop
) -> None:
    a, b = new_key(cached, "tenant-a"), new_key(cached, "tenant-b")
    text = f"the same words {uuid.uuid4().hex}"
    chat(cached, a, text)
    background.run(cached.gateway.cache.drain())
    assert chat(cached, a, text).headers["x-switchboard-cache"] == "hit-exact"
    before = upstream_calls(mock_upstream)
    assert chat(cached, b, text).headers["x-switchboard-cache"] == "miss"
    assert upstream_calls(mock_upstream) == before + 1
    a2 = new_key(cached, "tenant-a")  # another key of the same tenant shares its cache
    assert chat(cached, a2, text).headers["x-switchboard-cache"] == "hit-exact"


def test_global_scope_is_shared_across_tenants(
    cached: GatewayServer, background: BackgroundLoop
) -> None:
    a, b = new_key(cached, "g-a"), new_key(cached, "g-b")
    text = f"shared {uuid.uuid4().hex}"
    chat(cached, a, text, model="shared")
    background.run(cached.gateway.cache.drain())
    assert chat(cached, b, text, model="shared").headers["x-switchboard-cache"] == "hit-exact"


def test_policy_and_directives(cached: GatewayServer, background: BackgroundLoop) -> None:
    key = new_key(cached, "acme")
    text = f"directives {uuid.uuid4().hex}"
    assert "x-switchboard-cache" not in chat(cached, key, text, model="plain").headers
    hot = chat(cached, key, text, temperature=0.9)
    assert hot.headers["x-switchboard-cache"] == "bypass"  # above max_temperature 0.3
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    assert chat(cached, key, text, tools=tools).headers["x-switchboard-cache"] == "bypass"
    background.run(cached.gateway.cache.drain())
    assert chat(cached, key, text, temperature=0.9).headers["x-switchboard-cache"] == "bypass"

    # no-store: neither looked up nor kept
    r = chat(cached, key, text, headers={"cache-control": "no-store"})
    assert r.headers["x-switchboard-cache"] == "bypass"
    background.run(cached.gateway.cache.drain())
    assert chat(cached, key, text).headers["x-switchboard-cache"] == "miss"
    background.run(cached.gateway.cache.drain())
    assert chat(cached, key, text).headers["x-switchboard-cache"] == "hit-exact"
    # no-cache and refresh: asked again, and the fresh answer replaces the entry
    for headers in ({"cache-control": "no-cache"}, {"x-switchboard-cache": "refresh"}):
        assert chat(cached, key, text, headers=headers).headers["x-switchboard-cache"] == "bypass"
    assert (
        chat(cached, key, text, headers={"x-switchboard-cache": "bypass"}).headers[
            "x-switchboard-cache"
        ]
        == "bypass"
    )
    background.run(cached.gateway.cache.drain())
    assert chat(cached, key, text).headers["x-switchboard-cache"] == "hit-exact"


def test_hits_count_for_rpm_but_not_for_tpm_or_budget(
    cached: GatewayServer, background: BackgroundLoop
) -> None:
    key = new_key(cached, "billing", rpm=6, tpm=2000, budget_usd=1.0)
    gateway = cached.gateway
    key_id = background.run(gateway.authenticator.authenticate(key)).id
    text = f"billing {uuid.uuid4().hex}"
    first = chat(cached, key, text, max_tokens=100)
    background.run(gateway.cache.drain())
    remaining = []
    for _ in range(4):
        r = chat(cached, key, text, max_tokens=100)
        assert r.headers["x-switchboard-cache"] == "hit-exact"
        remaining.append(int(r.headers["x-ratelimit-remaining-requests"]))
    assert remaining == [4, 3, 2, 1]  # every hit is a request for RPM
    background.run(gateway.limits_stage.drain())
    probe = chat(cached, key, f"another {uuid.uuid4().hex}", max_tokens=100)
    tokens_used = 2000 - int(probe.headers["x-ratelimit-remaining-tokens"])
    one_call = first.json()["usage"]["total_tokens"]
    reservation = 100 + 20  # this request's own hold: reply cap and a prompt estimate
    assert tokens_used <= one_call + reservation  # the four hits settled at zero tokens
    background.run(gateway.limits_stage.drain())
    background.run(gateway.usage.flush())
    spent = background.run(gateway.keys.spend(key_id, None))
    usage = first.json()["usage"]
    one_cost = (usage["prompt_tokens"] * 1.0 + usage["completion_tokens"] * 2.0) / 1e6
    assert spent == pytest.approx(2 * one_cost, rel=0.5)  # the first call and the probe only
    rows = background.run(gateway.keys.usage(key_id=key_id))
    assert sum(r.requests for r in rows) == 6 and sum(r.cache_hits for r in rows) == 4
    assert {r.model for r in rows} == {"cached"}
    assert sum(r.saved_usd for r in rows) == pytest.approx(4 * one_cost, rel=0.01)
    metrics = httpx.get(cached.base + "/metrics").text
    assert 'switchboard_cache_lookups_total{model="cached",outcome="hit-exact"}' in metrics
    assert 'switchboard_cache_saved_cost_usd_total{model="cached"}' in metrics


def test_parameters_orjson_cannot_encode_still_key_the_cache(
    cached: GatewayServer, background: BackgroundLoop
) -> None:
    key = new_key(cached, "acme")
    text = f"huge seed {uuid.uuid4().hex}"
    assert chat(cached, key, text, seed=10**30).headers["x-switchboard-cache"] == "miss"
    background.run(cached.gateway.cache.drain())
    assert chat(cached, key, text, seed=10**30).headers["x-switchboard-cache"] == "hit-exact"
    assert chat(cached, key, text, seed=2 * 10**30).headers["x-switchboard-cache"] == "miss"
