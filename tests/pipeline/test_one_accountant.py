"""One stream accountant (core-joins join 3): when an upstream streams without reporting usage,
the budget ledger, the usage table and the metrics all charge the same estimate."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import orjson
import pytest
from aiohttp import web

from switchboard.catalogue import Catalogue
from switchboard.config import Settings
from switchboard.testing.harness import BackgroundLoop, GatewayServer, chat_upstream, run_gateway

MASTER = "sk-master-accountant-0123456789"
WORDS = ["one", " two", " three", " four", " five"]


@pytest.fixture(scope="module")
def silent_upstream(background: BackgroundLoop) -> Iterator[str]:
    """Streams five deltas and never a usage chunk, whatever the request asks (as some
    OpenAI-compatible servers do)."""

    async def chat(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        for i, word in enumerate(WORDS):
            delta = {"content": word} if i else {"role": "assistant", "content": word}
            chunk = {"id": "s", "object": "chat.completion.chunk", "created": 0, "model": "up",
                     "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}  # fmt: skip
            await resp.write(b"data: " + orjson.dumps(chunk) + b"\n\n")
        await resp.write(b"data: [DONE]\n\n")
        return resp

    with chat_upstream(background, chat) as url:
        yield url


@pytest.fixture(scope="module")
def metered(
    background: BackgroundLoop, silent_upstream: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayServer]:
    dep = {"provider": "openai", "model": "up", "api_base": silent_upstream,
           "price": {"input": 1000.0, "output": 2000.0}}  # fmt: skip
    settings = Settings(
        catalogue=Catalogue.model_validate({"models": [{"name": "quiet", "deployments": [dep]}]}),
        master_key=MASTER,
        database_url=f"sqlite:///{tmp_path_factory.mktemp('acct') / 'keys.db'}",
    )
    with run_gateway(background, settings) as server:
        yield server


def test_ledger_and_usage_table_agree_without_reported_usage(
    metered: GatewayServer, background: BackgroundLoop
) -> None:
    created = httpx.post(
        f"{metered.base}/admin/keys",
        json={"name": "k", "tenant": "t", "budget_usd": 100},
        headers={"Authorization": f"Bearer {MASTER}"},
    ).json()
    key, key_id = created["key"], created["api_key"]["id"]
    body = {"model": "quiet", "stream": True, "messages": [{"role": "user", "content": "x" * 400}]}
    with httpx.stream(
        "POST", metered.url + "/chat/completions", json=body,
        headers={"Authorization": f"Bearer {key}"}, timeout=10,
    ) as resp:  # fmt: skip
        assert resp.status_code == 200
        assert "".join(resp.iter_text()).count("data: ") == len(WORDS) + 1
    gateway = metered.gateway

    async def figures() -> tuple[int, float, int]:
        await gateway.limits_stage.drain()  # settles run after the reply
        await gateway.usage.flush()
        rows = await gateway.keys.usage(key_id=key_id)
        spent = await gateway.limits.spend.spent(f"key:{key_id}", "total")
        return spent, sum(r.cost_usd for r in rows), sum(r.completion_tokens for r in rows)

    ledger_micro, table_usd, completion = background.run(figures())
    assert completion == len(WORDS)  # one token a delta: the one estimate
    assert ledger_micro > 0
    assert ledger_micro == round(table_usd * 1_000_000)
