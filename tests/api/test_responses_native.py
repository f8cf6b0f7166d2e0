"""`client.responses` of the openai SDK against a gateway whose deployments pass the Responses
API through (`responses_api: native`): to the mock provider's /v1/responses and to a scripted
upstream full of unknown fields; usage booked, failover before the first byte, stored
responses scoped to the key and continued on any deployment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import orjson
import pytest

from switchboard.catalogue import Catalogue
from switchboard.config import Settings
from switchboard.testing.harness import (
    BackgroundLoop,
    GatewayServer,
    MockUpstream,
    post_server,
    run_gateway,
)
from tests.api.native_upstream import EVENTS, RESPONSE, NativeUpstream, owned
from tests.conftest import SECRET, mock_catalogue

MASTER = "sk-master-native-0123456789"


def native(up_url: str, name: str, **kw: Any) -> dict[str, Any]:
    return {"provider": "openai", "model": "mock-upstream", "name": name, "api_base": up_url,
            "api_key": SECRET, "responses_api": "native", **kw}  # fmt: skip


def failover_model(up: MockUpstream, name: str, fault: dict[str, str]) -> dict[str, Any]:
    """A first deployment that fails (the fault headers), a second that serves."""
    return {
        "name": name,
        "strategy": "priority",
        "deployments": [
            native(up.url, f"{name}-bad", headers=fault, priority=0),
            native(up.url, f"{name}-good", priority=1),
        ],
    }


@pytest.fixture(scope="module")
def scripted(background: BackgroundLoop) -> Iterator[NativeUpstream]:
    upstream = NativeUpstream()
    with post_server(background, "/v1/responses", upstream.handle) as base:
        upstream.url = f"{base}/v1"  # type: ignore[attr-defined]
        yield upstream


@pytest.fixture(scope="module")
def gw(
    background: BackgroundLoop,
    mock_upstream: MockUpstream,
    scripted: NativeUpstream,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[GatewayServer]:
    odd = native(scripted.url, "odd-a", model="gpt-upstream")  # type: ignore[attr-defined]
    extra = [
        {"name": "native", "deployments": [native(mock_upstream.url, "native-a")], "cache": {}},
        {"name": "odd", "deployments": [odd]},
        failover_model(mock_upstream, "nf-error", {"x-mock-error-status": "503"}),
        failover_model(mock_upstream, "nf-cut", {"x-mock-cut-after": "0"}),
        {"name": "mixed", "strategy": "priority", "deployments": [
            native(mock_upstream.url, "mixed-native", headers={"x-mock-error-status": "503"}),
            {**native(mock_upstream.url, "mixed-translating", priority=1),
             "responses_api": "translate"}]},
        {"name": "translating-first", "strategy": "priority", "deployments": [
            {**native(mock_upstream.url, "tf-translating"), "responses_api": "translate"},
            native(mock_upstream.url, "tf-native", priority=1)]},
        {"name": "refuses", "deployments": [native(mock_upstream.url, "refuses-a",
                                                   headers={"x-mock-error-status": "400"})]},
    ]  # fmt: skip
    models = [m.model_dump() for m in mock_catalogue(mock_upstream).models]
    models[0]["cache"] = {}  # `mock`, translating
    catalogue = Catalogue.model_validate({"models": models + extra})
    folder: Path = tmp_path_factory.mktemp("native-keys")
    settings = Settings(
        catalogue=catalogue, master_key=MASTER, database_url=f"sqlite:///{folder / 'k.db'}"
    )
    with run_gateway(background, settings) as server:
        yield server


def new_key(gw: GatewayServer, name: str) -> str:
    created = httpx.post(
        f"{gw.base}/admin/keys",
        json={"name": name, "tenant": "t"},
        headers={"Authorization": f"Bearer {MASTER}"},
    )
    return str(created.json()["key"])


def client(gw: GatewayServer, name: str = "k") -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.url, api_key=new_key(gw, name), max_retries=0, timeout=10)


def sse_events(lines: Iterator[str]) -> list[tuple[str, dict[str, Any]]]:
    """(event name, data) of each event of a raw SSE body."""
    out, name = [], ""
    for line in lines:
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            out.append((name, orjson.loads(line[6:])))
    return out


def test_every_upstream_field_reaches_the_client(
    gw: GatewayServer, scripted: NativeUpstream
) -> None:
    raw = client(gw).responses.with_raw_response.create(
        model="odd",
        input="Weather in Paris?",
        tools=[{"type": "web_search"}],  # a built-in tool: refused where translated
        include=["web_search_call.action.sources"],
        extra_body={"x_client_field": {"k": 1}},
    )
    assert raw.http_response.json() == owned(RESPONSE, "odd")
    resp = raw.parse()
    assert resp.output_text == "Sunny." and resp.model == "odd"
    assert resp.output[0].type == "web_search_call"
    assert raw.headers["x-switchboard-deployment"] == "odd-a"
    sent = scripted.received[-1]
    assert sent == {
        "model": "gpt-upstream",
        "input": "Weather in Paris?",
        "tools": [{"type": "web_search"}],
        "include": ["web_search_call.action.sources"],
        "x_client_field": {"k": 1},
        "store": False,
        "stream": False,
    }


def test_every_upstream_event_reaches_the_client(gw: GatewayServer) -> None:
    c = client(gw)
    with c.responses.with_streaming_response.create(
        model="odd", input="Weather?", stream=True
    ) as streamed:
        events = sse_events(streamed.iter_lines())
    assert [data for _, data in events] == [owned(e, "odd") for e in EVENTS]
    assert [name for name, _ in events] == [e["type"] for e in EVENTS]
    parsed = list(c.responses.create(model="odd", input="Weather?", stream=True))
    assert [e.type for e in parsed] == [e["type"] for e in EVENTS]
    assert parsed[-1].response.usage.input_tokens == 1234  # type: ignore[union-attr]


def test_usage_is_booked_from_the_upstream_report(gw: GatewayServer) -> None:
    key = new_key(gw, "usage")
    c = openai.OpenAI(base_url=gw.url, api_key=key, max_retries=0, timeout=10)
    c.responses.create(model="odd", input="x")
    list(c.responses.create(model="odd", input="x", stream=True))
    usage = httpx.get(f"{gw.url}/usage", headers={"Authorization": f"Bearer {key}"}).json()
    [row] = [r for r in usage["data"] if r["model"] == "odd"]
    assert row["requests"] == 2
    assert (row["prompt_tokens"], row["completion_tokens"]) == (2 * 1234, 2 * 56)
    assert row["cached_tokens"] == 2 * 1000


def test_the_mock_serves_natively(gw: GatewayServer, mock_upstream: MockUpstream) -> None:
    c = client(gw)
    raw = c.responses.with_raw_response.create(
        model="native", input="Say hello", tools=[{"type": "web_search"}]
    )
    resp = raw.parse()
    assert resp.id.startswith("resp-") and resp.model == "native"  # the mock's id, our name
    assert len(resp.output_text.split()) == 8 and resp.usage is not None
    assert resp.usage.output_tokens == 8 and resp.store is True
    last = mock_upstream.last_request()
    assert last["path"] == "/v1/responses"
    assert last["body"]["model"] == "mock-upstream" and last["body"]["store"] is False
    assert last["body"]["tools"] == [{"type": "web_search"}]
    events = list(c.responses.create(model="native", input="Say hello", stream=True))
    assert events[0].type == "response.created" and events[-1].type == "response.completed"
    final = events[-1].response  # type: ignore[union-attr]
    assert final.model == "native" and final.id.startswith("resp-")
    assert final.usage is not None and final.usage.output_tokens == 8
    assert mock_upstream.last_request()["path"] == "/v1/responses"


def test_failover_before_the_first_byte(gw: GatewayServer, mock_upstream: MockUpstream) -> None:
    c = client(gw)
    raw = c.responses.with_raw_response.create(model="nf-error", input="hi")
    assert raw.headers["x-switchboard-deployment"] == "nf-error-good"
    assert raw.parse().id.startswith("resp-")
    # the first deployment opens its stream (created, in_progress...) and breaks before text
    with c.responses.with_streaming_response.create(
        model="nf-cut", input="hi", stream=True
    ) as streamed:
        assert streamed.headers["x-switchboard-deployment"] == "nf-cut-good"
        events = [data for _, data in sse_events(streamed.iter_lines())]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    ids = {e["response"]["id"] for e in events if "response" in e}
    assert len(ids) == 1 and ids.pop().startswith("resp-")
    assert events[-1]["type"] == "response.completed"
    assert mock_upstream.last_request()["path"] == "/v1/responses"


def test_stored_responses_belong_to_their_key_and_continue(
    gw: GatewayServer, mock_upstream: MockUpstream
) -> None:
    mine, theirs = client(gw, "a"), client(gw, "b")
    first = mine.responses.create(model="native", input="My name is Ada")
    assert mine.responses.retrieve(first.id).to_dict() == first.to_dict()
    with pytest.raises(openai.NotFoundError):
        theirs.responses.retrieve(first.id)
    with pytest.raises(openai.NotFoundError):
        theirs.responses.delete(first.id)
    with pytest.raises(openai.NotFoundError):
        theirs.responses.create(model="native", previous_response_id=first.id, input="x")
    # continued after a failover: the upstream stores nothing, the turns travel as input
    second = mine.responses.create(model="nf-error", previous_response_id=first.id, input="Who?")
    assert second.previous_response_id == first.id and second.store is True
    sent = mock_upstream.last_request()["body"]
    assert "previous_response_id" not in sent and sent["store"] is False
    [answer] = first.to_dict()["output"]
    del answer["id"]
    assert sent["input"] == [
        {"type": "message", "role": "user", "content": "My name is Ada"},
        answer,
        {"type": "message", "role": "user", "content": "Who?"},
    ]
    # and on a deployment that translates: the same conversation as chat messages
    mine.responses.create(model="mock", previous_response_id=second.id, input="Again?")
    messages = mock_upstream.last_request()["body"]["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"] * 2 + ["user"]
    assert messages[1]["content"] == first.output_text
    mine.responses.delete(first.id)
    with pytest.raises(openai.NotFoundError):
        mine.responses.retrieve(first.id)


def test_a_streamed_response_is_stored(gw: GatewayServer) -> None:
    c = client(gw)
    events = list(c.responses.create(model="native", input="hi", stream=True))
    final = events[-1].response  # type: ignore[union-attr]
    assert final.id.startswith("resp-")  # the mock's own
    assert c.responses.retrieve(final.id).to_dict() == final.to_dict()


def test_bad_input_is_a_4xx_envelope(gw: GatewayServer, mock_upstream: MockUpstream) -> None:
    c = client(gw)
    with pytest.raises(openai.BadRequestError) as missing:
        c.responses.create(model="native")  # type: ignore[call-overload]
    assert missing.value.body["param"] == "input"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError) as background:
        c.responses.create(model="native", input="x", background=True)
    assert background.value.body["param"] == "background"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError) as upstream:  # the upstream's own 400
        c.responses.create(model="refuses", input="x")
    assert "Injected error 400" in upstream.value.message
    assert mock_upstream.last_request()["path"] == "/v1/responses"
    with pytest.raises(openai.BadRequestError) as translated:
        c.responses.create(model="mock", input="x", tools=[{"type": "web_search"}])
    assert translated.value.code == "unsupported_parameter"
    assert "responses_api: native" in translated.value.message


def test_passed_through_replies_are_not_cached(
    gw: GatewayServer, mock_upstream: MockUpstream
) -> None:
    c = client(gw)
    before = mock_upstream.stats()["responses_requests"]
    first = c.responses.create(model="native", input="cache me")
    again = c.responses.create(model="native", input="cache me")
    assert first.id != again.id  # each the upstream's own response
    assert mock_upstream.stats()["responses_requests"] == before + 2
    # translating: a request whose translation left something out never hits a cached reply
    c.responses.create(model="mock", input="cache me too")
    with pytest.raises(openai.BadRequestError):
        c.responses.create(model="mock", input="cache me too", tools=[{"type": "web_search"}])


def test_failover_from_a_native_to_a_translating_deployment(
    gw: GatewayServer, mock_upstream: MockUpstream
) -> None:
    c = client(gw)
    raw = c.responses.with_raw_response.create(model="mixed", input="hi")
    assert raw.headers["x-switchboard-deployment"] == "mixed-translating"
    resp = raw.parse()
    assert resp.id.startswith("resp_") and len(resp.output_text.split()) == 8  # rendered by us
    assert mock_upstream.last_request()["path"] == "/v1/chat/completions"
    events = list(c.responses.create(model="mixed", input="hi", stream=True))
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[0].type == "response.created" and events[-1].type == "response.completed"
    # and back: a translated response continues on a native deployment, its turns as items
    c.responses.create(model="native", previous_response_id=resp.id, input="More?")
    sent = mock_upstream.last_request()["body"]
    assert sent["input"][0] == {"type": "message", "role": "user", "content": "hi"}
    assert sent["input"][1]["content"][0]["text"] == resp.output_text
    assert "id" not in sent["input"][1] and sent["input"][2]["content"] == "More?"


def test_what_only_a_native_deployment_serves_skips_the_translating_ones(
    gw: GatewayServer, mock_upstream: MockUpstream
) -> None:
    c = client(gw)
    search = [{"type": "web_search"}]
    raw = c.responses.with_raw_response.create(model="translating-first", input="hi", tools=search)
    assert raw.headers["x-switchboard-deployment"] == "tf-native"
    assert mock_upstream.last_request()["body"]["tools"] == search
    plain = c.responses.with_raw_response.create(model="translating-first", input="hi")
    assert plain.headers["x-switchboard-deployment"] == "tf-translating"  # the plan's order
    # the native deployment fails: its error, not a 400 from the translating one
    with pytest.raises(openai.APIStatusError) as failed:
        c.responses.create(model="mixed", input="hi", tools=search)
    assert failed.value.status_code >= 500
