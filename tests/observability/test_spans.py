"""OpenTelemetry spans, read back from the SDK's in-memory exporter: the request span continues
the caller's trace, one span per stage and per upstream attempt, GenAI attributes, the caller's
session/user/trace tags on spans and log lines, and the `traceparent` the upstream received
naming the attempt's span. Also: OTLP export switched on by the standard OTEL_* variables."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode, format_span_id, format_trace_id

from switchboard.catalogue import Catalogue
from switchboard.config import Settings
from switchboard.observability.spans import provider_from_env
from switchboard.testing.harness import (
    BackgroundLoop,
    GatewayServer,
    MockUpstream,
    post_server,
    run_gateway,
)

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
CHAT = {"model": "flaky", "messages": [{"role": "user", "content": "hi"}]}


def catalogue(upstream: MockUpstream) -> Catalogue:
    base = {"provider": "openai", "model": "up-model", "api_base": upstream.url}
    broken = {**base, "name": "tr-broken", "priority": 0, "headers": {"x-mock-error-status": "500"}}
    models = [
        {
            "name": "flaky",
            "strategy": "priority",
            "deployments": [broken, {**base, "name": "tr-good", "priority": 1}],
        }
    ]
    return Catalogue.model_validate({"models": models})


@pytest.fixture(scope="module")
def traced(
    background: BackgroundLoop, mock_upstream: MockUpstream
) -> Iterator[tuple[GatewayServer, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    settings = Settings(catalogue=catalogue(mock_upstream), retry_rounds=0)
    with run_gateway(background, settings, tracer_provider=provider) as server:
        yield server, exporter


def by_name(spans: tuple[ReadableSpan, ...], name: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name == name]


def test_request_stage_and_attempt_spans_with_genai_attributes(
    traced: tuple[GatewayServer, InMemorySpanExporter],
    mock_upstream: MockUpstream,
    caplog: pytest.LogCaptureFixture,
) -> None:
    gateway, exporter = traced
    exporter.clear()
    caplog.set_level(logging.INFO)
    headers = {
        "traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01",
        "Helicone-Session-Id": "sess-42",
        "Helicone-User-Id": "user-7",
    }
    body = {**CHAT, "metadata": {"trace_id": "lf-trace-9", "session_id": "ignored-header-wins"}}
    resp = httpx.post(gateway.url + "/chat/completions", json=body, headers=headers)
    assert resp.status_code == 200
    seen = {k.lower(): v for k, v in mock_upstream.last_request()["headers"].items()}
    spans = exporter.get_finished_spans()

    (request,) = by_name(spans, "chat flaky")
    assert request.kind == SpanKind.SERVER
    assert format_trace_id(request.context.trace_id) == CALLER_TRACE
    assert request.parent is not None and format_span_id(request.parent.span_id) == CALLER_SPAN
    attrs: dict[str, Any] = dict(request.attributes or {})
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.request.model"] == "flaky"
    assert attrs["gen_ai.response.model"] == "up-model"
    assert attrs["gen_ai.provider.name"] == "openai"
    assert attrs["gen_ai.usage.output_tokens"] == 8 and attrs["gen_ai.usage.input_tokens"] > 0
    assert attrs["http.response.status_code"] == 200
    assert attrs["session.id"] == "sess-42" and attrs["user.id"] == "user-7"
    assert attrs["switchboard.client_trace_id"] == "lf-trace-9"

    # one span per stage (auth, memory and limits are off here: no keys), nested in order
    stages = {s.name: s for s in spans if s.name.startswith("switchboard.")}
    assert set(stages) == {
        "switchboard.memory", "switchboard.route", "switchboard.account", "switchboard.call"
    }  # fmt: skip
    parent_of = {name: s.parent.span_id for name, s in stages.items() if s.parent}
    assert parent_of["switchboard.memory"] == request.context.span_id
    assert parent_of["switchboard.route"] == stages["switchboard.memory"].context.span_id
    assert parent_of["switchboard.call"] == stages["switchboard.account"].context.span_id

    # one CLIENT span per upstream attempt, under the call stage: the failed one, then the good
    attempts = sorted(by_name(spans, "chat up-model"), key=lambda s: s.start_time or 0)
    assert [s.kind for s in attempts] == [SpanKind.CLIENT, SpanKind.CLIENT]
    failed, good = attempts
    call_id = stages["switchboard.call"].context.span_id
    assert failed.parent and good.parent and failed.parent.span_id == good.parent.span_id == call_id
    assert failed.status.status_code == StatusCode.ERROR
    assert failed.attributes and failed.attributes["http.response.status_code"] == 500
    assert failed.attributes["switchboard.deployment"] == "tr-broken"
    assert good.attributes and good.attributes["switchboard.deployment"] == "tr-good"
    assert good.attributes["gen_ai.usage.output_tokens"] == 8
    # the upstream saw the good attempt's own span as its parent
    good_id = format_span_id(good.context.span_id)
    assert seen["traceparent"] == f"00-{CALLER_TRACE}-{good_id}-01"

    # the log line carries the same trace and the caller's tags
    lines = [getattr(r, "fields", {}) for r in caplog.records if r.name == "switchboard.request"]
    (line,) = [f for f in lines if f.get("request_id") == resp.headers["x-request-id"]]
    assert line["trace_id"] == CALLER_TRACE
    assert (line["session_id"], line["user_id"], line["client_trace_id"]) == (
        "sess-42", "user-7", "lf-trace-9"
    )  # fmt: skip


def test_streams_end_their_request_span_when_the_stream_ends(
    traced: tuple[GatewayServer, InMemorySpanExporter],
) -> None:
    gateway, exporter = traced
    exporter.clear()
    body = {**CHAT, "stream": True, "metadata": {"session_id": "s-body"}, "user": "u-body"}
    with httpx.stream("POST", gateway.url + "/chat/completions", json=body) as resp:
        assert resp.status_code == 200
        assert "[DONE]" in "".join(resp.iter_text())
    (request,) = by_name(exporter.get_finished_spans(), "chat flaky")
    attrs = dict(request.attributes or {})
    assert attrs["session.id"] == "s-body" and attrs["user.id"] == "u-body"
    assert attrs["gen_ai.usage.output_tokens"] == 8
    assert request.end_time is not None and request.start_time is not None


def test_tracing_is_off_unless_the_otel_variables_ask() -> None:
    assert provider_from_env({}) is None
    assert provider_from_env({"OTEL_TRACES_EXPORTER": "none"}) is None
    on = {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}
    assert provider_from_env(on) is None


def test_otlp_export_on_through_the_standard_variables(
    background: BackgroundLoop, mock_upstream: MockUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real OTLP/HTTP receiver gets the spans (protobuf) at OTEL_EXPORTER_OTLP_ENDPOINT."""
    received: list[bytes] = []

    async def traces(request: web.Request) -> web.Response:
        received.append(await request.read())
        return web.Response(status=200)

    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "sb-under-test")
    with post_server(background, "/v1/traces", traces) as receiver:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver)
        settings = Settings(catalogue=catalogue(mock_upstream), retry_rounds=0)
        with run_gateway(background, settings) as gateway:
            resp = httpx.post(gateway.url + "/chat/completions", json=CHAT)
            assert resp.status_code == 200
        # the gateway's shutdown flushed the batch processor
    names, services = set(), set()
    for raw in received:
        message = ExportTraceServiceRequest()
        message.ParseFromString(raw)
        for rs in message.resource_spans:
            services |= {
                a.value.string_value for a in rs.resource.attributes if a.key == "service.name"
            }
            names |= {s.name for ss in rs.scope_spans for s in ss.spans}
    assert services == {"sb-under-test"}
    assert {"chat flaky", "chat up-model", "switchboard.call"} <= names


MASTER = "mk-spans-sessions-0123456789abcdef"


def test_session_and_user_tags_reach_the_usage_rows(
    background: BackgroundLoop, mock_upstream: MockUpstream, tmp_path: Path
) -> None:
    settings = Settings(
        catalogue=catalogue(mock_upstream), retry_rounds=0, master_key=MASTER,
        database_url=f"sqlite:///{tmp_path / 'sessions.db'}",
    )  # fmt: skip
    admin = {"authorization": f"Bearer {MASTER}"}
    with run_gateway(background, settings) as gw:
        made = httpx.post(gw.base + "/admin/keys", json={"name": "s", "tenant": "acme"},
                          headers=admin)  # fmt: skip
        auth = {"authorization": f"Bearer {made.json()['key']}"}
        for headers, body in (
            ({"X-Session-Id": "chat-1", "Helicone-User-Id": "alice"}, {}),
            ({}, {"metadata": {"session_id": "chat-1", "user": "alice"}}),
            ({}, {"user": "bob"}),
            ({}, {}),
        ):
            resp = httpx.post(gw.url + "/chat/completions", json={**CHAT, **body},
                              headers={**auth, **headers})  # fmt: skip
            assert resp.status_code == 200
        chat = httpx.get(gw.base + "/admin/usage/sessions?session_id=chat-1", headers=admin)
        bob = httpx.get(gw.base + "/admin/usage/sessions?user_id=bob", headers=admin)
        everything = httpx.get(gw.base + "/admin/usage/sessions", headers=admin)
        daily = httpx.get(gw.base + "/admin/usage", headers=admin)
        assert httpx.get(gw.base + "/admin/usage/sessions").status_code == 401
    (row,) = chat.json()["data"]
    assert (row["session_id"], row["user_id"], row["tenant"]) == ("chat-1", "alice", "acme")
    assert row["requests"] == 2 and row["completion_tokens"] == 16
    (row,) = bob.json()["data"]
    assert (row["session_id"], row["user_id"], row["requests"]) == ("", "bob", 1)
    assert everything.json()["total"]["requests"] == 3  # the untagged request has no row here
    assert daily.json()["total"]["requests"] == 4  # the daily totals count every request
