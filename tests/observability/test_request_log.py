"""One structured log line per request, refusals and upstream failures included (request_log.py)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

import httpx
import pytest

from switchboard.testing.harness import GatewayServer, wait_for

Lines = Callable[[str], list[dict[str, object]]]
CHAT = {"model": "mock", "messages": [{"role": "user", "content": "hi"}]}


def rid() -> str:
    return f"obs-{uuid.uuid4().hex[:12]}"


def post(gateway: GatewayServer, path: str, request_id: str, **kw: object) -> httpx.Response:
    headers = {"x-request-id": request_id, **kw.pop("headers", {})}  # type: ignore[dict-item]
    return httpx.post(gateway.base + path, headers=headers, timeout=10, **kw)  # type: ignore[arg-type]


def one_line(request_lines: Lines, request_id: str) -> dict[str, object]:
    assert wait_for(lambda: len(request_lines(request_id)) >= 1)
    found = request_lines(request_id)
    assert len(found) == 1, found
    return found[0]


def test_a_served_request_writes_one_line(gateway: GatewayServer, request_lines: Lines) -> None:
    request_id = rid()
    assert post(gateway, "/v1/chat/completions", request_id, json=CHAT).status_code == 200
    line = one_line(request_lines, request_id)
    assert line["endpoint"] == "chat.completions"
    assert (line["model"], line["deployment"], line["provider"]) == ("mock", "mock-a", "openai")
    assert (line["status"], line["outcome"], line["attempts"]) == (200, "ok", 1)
    assert (line["prompt_tokens"], line["completion_tokens"]) == (1, 8)
    assert line["cost_usd"] == pytest.approx(17e-6)
    assert line["latency_ms"] >= line["overhead_ms"] >= 0  # type: ignore[operator]
    assert len(str(line["trace_id"])) == 32


def test_a_stream_writes_one_line(gateway: GatewayServer, request_lines: Lines) -> None:
    request_id = rid()
    resp = post(gateway, "/v1/chat/completions", request_id, json={**CHAT, "stream": True})
    assert "[DONE]" in resp.text
    line = one_line(request_lines, request_id)
    assert (line["status"], line["stream"], line["completion_tokens"]) == (200, True, 8)
    assert line["ttft_ms"] is not None


@pytest.mark.parametrize(
    ("path", "body", "status", "outcome"),
    [
        ("/v1/nothing-here", {}, 404, "http_404"),  # unknown path: never routed
        ("/v1/chat/completions", {"model": "mock"}, 400, "invalid_value"),  # body validation
        ("/v1/chat/completions", {**CHAT, "model": "nope"}, 404, "model_not_found"),
    ],
)
def test_refusals_write_one_line(
    gateway: GatewayServer,
    request_lines: Lines,
    path: str,
    body: dict[str, object],
    status: int,
    outcome: str,
) -> None:
    request_id = rid()
    assert post(gateway, path, request_id, json=body).status_code == status
    line = one_line(request_lines, request_id)
    assert (line["status"], line["outcome"]) == (status, outcome)


def test_a_body_that_is_not_json_writes_one_line(
    gateway: GatewayServer, request_lines: Lines
) -> None:
    request_id = rid()
    resp = post(gateway, "/v1/chat/completions", request_id, content=b"{not json")
    assert resp.status_code == 400
    assert one_line(request_lines, request_id)["status"] == 400


def test_unreachable_upstream_logs_the_request_and_the_failure(
    gateway: GatewayServer, request_lines: Lines, caplog: pytest.LogCaptureFixture
) -> None:
    request_id = rid()
    resp = post(gateway, "/v1/chat/completions", request_id, json={**CHAT, "model": "mock-down"})
    assert resp.status_code == 502
    line = one_line(request_lines, request_id)
    assert (line["deployment"], line["outcome"]) == ("down-dep", "upstream_unavailable")
    failures = [
        r
        for r in caplog.records
        if r.name == "switchboard.upstream"
        and getattr(r, "fields", {}).get("request_id") == request_id
    ]
    assert failures and failures[0].levelno == logging.WARNING
    fields = failures[0].fields  # type: ignore[attr-defined]
    assert fields["deployment"] == "down-dep" and "unreachable" in str(fields["reason"])


def test_an_upstream_error_status_is_logged_with_its_status(
    gateway: GatewayServer, caplog: pytest.LogCaptureFixture, request_lines: Lines
) -> None:
    request_id = rid()
    resp = post(gateway, "/v1/chat/completions", request_id, json={**CHAT, "model": "mock-400"})
    assert resp.status_code == 400
    assert one_line(request_lines, request_id)["deployment"] == "mock-400-dep"
    statuses = [
        r.fields.get("upstream_status")  # type: ignore[attr-defined]
        for r in caplog.records
        if r.name == "switchboard.upstream"
        and getattr(r, "fields", {}).get("request_id") == request_id
    ]
    assert statuses == [400]
