"""Callbacks: a receiver verifies the Stripe-style signature; a failing receiver is retried
with backoff and the callback finally marked failed; private targets are refused by default."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from switchboard.config import Settings
from switchboard.jobs.webhooks import SIGNATURE_HEADER, sign, verify
from switchboard.testing.harness import BackgroundLoop, MockUpstream, run_gateway, wait_for
from tests.conftest import mock_catalogue

SECRET = "whsec-test"


class Receiver:
    def __init__(self, status: int) -> None:
        self.status = status
        self.calls: list[tuple[float, bool, dict[str, Any]]] = []

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        ok = verify(SECRET, request.headers.get(SIGNATURE_HEADER, ""), raw)
        self.calls.append((asyncio.get_running_loop().time(), ok, await request.json()))
        return web.Response(status=self.status)


@contextmanager
def receiver(background: BackgroundLoop, status: int) -> Iterator[tuple[Receiver, str]]:
    got = Receiver(status)
    app = web.Application()
    app.router.add_post("/hook", got.handle)
    runner = web.AppRunner(app)

    async def start() -> int:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return int(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]

    port = background.run(start())
    try:
        yield got, f"http://127.0.0.1:{port}/hook"
    finally:
        background.run(runner.cleanup())


def _settings(tmp_path: Path, upstream: MockUpstream, **kw: Any) -> Settings:
    return Settings(
        catalogue=mock_catalogue(upstream),
        database_url=f"sqlite:///{tmp_path / 'j.db'}",
        jobs_poll_s=0.2,
        webhook_secret=SECRET,
        webhook_allow_private=True,
        webhook_backoff_s=0.2,
        webhook_max_attempts=3,
        **kw,
    )


def _job(callback: str) -> dict[str, Any]:
    return {"kind": "chat.completion", "callback_url": callback, "input": {"model": "mock",
            "messages": [{"role": "user", "content": "hi"}]}}  # fmt: skip


def test_signature_scheme() -> None:
    body = b'{"id":"task_1"}'
    header = sign(SECRET, body, timestamp=1_700_000_000)
    assert header.startswith("t=1700000000,v1=") and len(header.split("v1=")[1]) == 64
    fresh = sign(SECRET, body)
    assert verify(SECRET, fresh, body)
    assert not verify(SECRET, fresh, body + b" ")  # tampered body
    assert not verify("other", fresh, body)
    assert not verify(SECRET, header, body)  # too old: a replay
    assert not verify(SECRET, "garbage", body)


def test_receiver_gets_a_signed_callback(
    tmp_path: Path, background: BackgroundLoop, mock_upstream: MockUpstream
) -> None:
    with (
        receiver(background, 200) as (got, url),
        run_gateway(background, _settings(tmp_path, mock_upstream)) as gw,
        httpx.Client(base_url=gw.base, timeout=10) as client,
    ):
        task = client.post("/v1/tasks", json=_job(url)).json()
        assert wait_for(lambda: client.get(f"/v1/tasks/{task['id']}").json()["callback_status"]
                        == "delivered", 10)  # fmt: skip
    assert len(got.calls) == 1
    _, signed, body = got.calls[0]
    assert signed
    assert body["id"] == task["id"] and body["status"] == "succeeded"
    assert body["result"]["object"] == "chat.completion"


def test_failing_receiver_is_retried_with_backoff_then_marked_failed(
    tmp_path: Path, background: BackgroundLoop, mock_upstream: MockUpstream
) -> None:
    with (
        receiver(background, 500) as (got, url),
        run_gateway(background, _settings(tmp_path, mock_upstream)) as gw,
        httpx.Client(base_url=gw.base, timeout=10) as client,
    ):
        task = client.post("/v1/tasks", json=_job(url)).json()
        assert wait_for(lambda: client.get(f"/v1/tasks/{task['id']}").json()["callback_status"]
                        == "failed", 15)  # fmt: skip
        job = client.get(f"/v1/tasks/{task['id']}").json()
    assert job["status"] == "succeeded"  # the job itself is done; only its callback failed
    assert len(got.calls) == 3 and all(signed for _, signed, _ in got.calls)
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(got.calls)]
    assert gaps[0] >= 0.2 and gaps[1] >= 0.4  # 0.2 s then 0.4 s: exponential


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9/hook", "http://10.1.2.3/hook", "http://169.254.169.254/latest",
     "http://[::1]/hook", "ftp://example.com/x", "http://localhost:80/x"],
)  # fmt: skip
def test_private_targets_are_refused_unless_allowed(
    tmp_path: Path, background: BackgroundLoop, mock_upstream: MockUpstream, url: str
) -> None:
    settings = _settings(tmp_path, mock_upstream)
    settings.webhook_allow_private = False
    with (
        run_gateway(background, settings) as gw,
        httpx.Client(base_url=gw.base, timeout=10) as client,
    ):
        reply = client.post("/v1/tasks", json=_job(url))
    assert reply.status_code == 400
    assert reply.json()["error"]["param"] == "callback_url"


def test_feedback_is_stored_off_the_request_path(
    tmp_path: Path, background: BackgroundLoop, mock_upstream: MockUpstream
) -> None:
    from sqlalchemy import select

    from switchboard.jobs.tables import feedback

    with (
        run_gateway(background, _settings(tmp_path, mock_upstream)) as gw,
        httpx.Client(base_url=gw.base, timeout=10) as client,
    ):
        reply = client.post("/v1/feedback", json={"response_id": "chatcmpl-1", "score": 1,
                                                  "comment": "good"})  # fmt: skip
        assert reply.status_code == 202
        accepted = reply.json()
        task_id = accepted["task_id"]
        assert wait_for(lambda: client.get(f"/v1/tasks/{task_id}").json()["status"]
                        == "succeeded", 10)  # fmt: skip
        engine = gw.gateway.jobs.store.engine

        async def rows() -> list[Any]:
            async with engine.connect() as conn:
                return list((await conn.execute(select(feedback))).all())

        stored = background.run(rows())
        assert client.post("/v1/feedback", json={"score": 1}).status_code == 400
    assert [(r.id, r.response_id, r.score, r.comment) for r in stored] == [
        (accepted["id"], "chatcmpl-1", 1.0, "good")
    ]
