"""Bad input and upstream failures come back as the OpenAI envelope with the right status."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import openai
import orjson
import pytest

from switchboard.api.schemas import MAX_MESSAGES
from switchboard.catalogue import Catalogue
from switchboard.config import Settings
from switchboard.testing.harness import BackgroundLoop, GatewayServer, MockUpstream, run_gateway

SECRET = "sk-test-secret-0123456789"


def post(gw: GatewayServer, path: str, **kw: object) -> httpx.Response:
    return httpx.post(gw.base + path, timeout=10, **kw)  # type: ignore[arg-type]


def envelope(resp: httpx.Response) -> dict[str, object]:
    body = resp.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert "Traceback" not in resp.text
    return body["error"]  # type: ignore[no-any-return]


def chat(model: str, **extra: object) -> dict[str, object]:
    return {"model": model, "messages": [{"role": "user", "content": "hi"}], **extra}


def test_unknown_model_is_404(gateway: GatewayServer) -> None:
    resp = post(gateway, "/v1/chat/completions", json=chat("no-such-model"))
    assert resp.status_code == 404
    err = envelope(resp)
    assert err["code"] == "model_not_found" and err["param"] == "model"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": [{"role": "user", "content": "hi"}]}, "model"),
        ({"model": "mock", "messages": []}, "messages"),
        ({"model": "mock", "messages": [{"role": "wizard", "content": "x"}]}, "messages.0.role"),
        (chat("mock", temperature=3), "temperature"),
        (chat("mock", max_tokens=0), "max_tokens"),
        (chat("mock", n=129), "n"),
    ],
)
def test_validation_errors_name_the_field(
    gateway: GatewayServer, body: dict[str, object], param: str
) -> None:
    resp = post(gateway, "/v1/chat/completions", json=body)
    assert resp.status_code == 400
    err = envelope(resp)
    assert err["type"] == "invalid_request_error"
    assert err["param"] == param


@pytest.mark.parametrize("raw", [b"{not json", b"", b"[1, 2]", b'"text"'])
def test_malformed_bodies_are_400(gateway: GatewayServer, raw: bytes) -> None:
    resp = post(
        gateway, "/v1/chat/completions", content=raw, headers={"content-type": "application/json"}
    )
    assert resp.status_code == 400
    envelope(resp)


def test_oversized_body_is_413(gateway: GatewayServer) -> None:
    big = chat("mock")
    big["messages"] = [{"role": "user", "content": "x" * 70_000}]
    resp = post(gateway, "/v1/chat/completions", json=big)
    assert resp.status_code == 413
    assert envelope(resp)["code"] == "request_too_large"


def test_oversized_chunked_body_is_413(gateway: GatewayServer) -> None:
    def body():  # no Content-Length: sent chunked
        for _ in range(100):
            yield b"x" * 1024

    resp = post(gateway, "/v1/chat/completions", content=body())
    assert resp.status_code == 413


def test_unknown_path_and_method(gateway: GatewayServer) -> None:
    resp = httpx.get(gateway.base + "/v1/nothing-here")
    assert resp.status_code == 404
    envelope(resp)
    resp = httpx.get(gateway.base + "/v1/chat/completions")
    assert resp.status_code == 405
    envelope(resp)


def test_upstream_429_keeps_retry_after(gateway: GatewayServer) -> None:
    resp = post(gateway, "/v1/chat/completions", json=chat("mock-429"))
    assert resp.status_code == 429
    assert resp.headers["retry-after"] == "1"
    assert envelope(resp)["type"] == "rate_limit_error"


def test_upstream_500_is_502(gateway: GatewayServer) -> None:
    resp = post(gateway, "/v1/chat/completions", json=chat("mock-500"))
    assert resp.status_code == 502
    envelope(resp)


def test_upstream_400_is_client_error(gateway: GatewayServer) -> None:
    resp = post(gateway, "/v1/chat/completions", json=chat("mock-400"))
    assert resp.status_code == 400


def test_upstream_hang_is_504(gateway: GatewayServer) -> None:
    resp = post(gateway, "/v1/chat/completions", json=chat("mock-hang"))
    assert resp.status_code == 504
    assert envelope(resp)["code"] == "upstream_timeout"


def test_upstream_down_is_502(gateway: GatewayServer) -> None:
    resp = post(gateway, "/v1/chat/completions", json=chat("mock-down"))
    assert resp.status_code == 502
    assert envelope(resp)["code"] == "upstream_unavailable"


def test_upstream_credentials_error_never_echoes_the_key(gateway: GatewayServer) -> None:
    resp = post(gateway, "/v1/chat/completions", json=chat("mock-401"))
    assert resp.status_code == 502
    assert SECRET not in resp.text and "sk-test" not in resp.text
    assert "credentials" in str(envelope(resp)["message"])


def test_stream_errors_before_first_byte_keep_status(gateway: GatewayServer) -> None:
    c = openai.OpenAI(base_url=gateway.url, api_key="x", max_retries=0)
    with pytest.raises(openai.RateLimitError):
        c.chat.completions.create(
            model="mock-429", messages=[{"role": "user", "content": "hi"}], stream=True
        )


def test_embeddings_validation(gateway: GatewayServer) -> None:
    resp = post(gateway, "/v1/embeddings", json={"model": "mock", "input": []})
    assert resp.status_code == 400
    assert envelope(resp)["param"] == "input"


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("where", ["extra", "content_part", "tool_call"])
@pytest.mark.parametrize("depth", [65, 300, 2000])
def test_deeply_nested_bodies_are_400(gateway: GatewayServer, where: str, depth: int) -> None:
    inner = nested(depth)
    if where == "extra":
        raw = f'{{"model":"mock","messages":[{{"role":"user","content":"hi"}}],"x":{inner}}}'
    elif where == "content_part":
        part = f'{{"type":"text","text":"hi","deep":{inner}}}'
        raw = f'{{"model":"mock","messages":[{{"role":"user","content":[{part}]}}]}}'
    else:
        call = f'{{"id":"c","type":"function","function":{inner}}}'
        raw = f'{{"model":"mock","messages":[{{"role":"assistant","tool_calls":[{call}]}}]}}'
    resp = post(gateway, "/v1/chat/completions", content=raw.encode())
    assert resp.status_code == 400, resp.text
    assert "nested" in str(envelope(resp)["message"])


def test_nesting_up_to_the_limit_is_accepted(gateway: GatewayServer) -> None:
    from switchboard.api.body import MAX_JSON_DEPTH, json_depth

    extra = orjson.loads(nested(MAX_JSON_DEPTH - 1))  # the body object is level 1
    body = {**chat("mock"), "metadata_blob": extra, "s": '[[[[\\"{{{'}
    assert json_depth(orjson.dumps(body)) == MAX_JSON_DEPTH
    resp = post(gateway, "/v1/chat/completions", content=orjson.dumps(body))
    assert resp.status_code != 500
    assert resp.status_code != 400 or "nested" not in resp.text


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"stream": "yes"}, "stream"),
        ({"stream": 1}, "stream"),
        ({"max_tokens": "10"}, "max_tokens"),
        ({"max_tokens": 10.0}, "max_tokens"),
        ({"max_tokens": 1e17}, "max_tokens"),
        ({"max_tokens": 10**17}, "max_tokens"),
        ({"max_completion_tokens": 10**7 + 1}, "max_completion_tokens"),
        ({"temperature": "0.5"}, "temperature"),
        ({"top_p": True}, "top_p"),
        ({"n": "1"}, "n"),
        ({"stream_options": {"include_usage": "true"}}, "stream_options.include_usage"),
    ],
)
def test_scalars_are_strict_and_bounded(
    gateway: GatewayServer, extra: dict[str, object], param: str
) -> None:
    resp = post(gateway, "/v1/chat/completions", json=chat("mock", **extra))
    assert resp.status_code == 400, resp.text
    assert envelope(resp)["param"] == param


def test_integers_are_still_numbers(gateway: GatewayServer) -> None:
    resp = post(gateway, "/v1/chat/completions", json=chat("mock", temperature=1, top_p=1))
    assert resp.status_code == 200, resp.text


def test_embeddings_scalars_are_strict(gateway: GatewayServer) -> None:
    for dimensions in ("8", 10**9):
        body = {"model": "mock", "input": "hi", "dimensions": dimensions}
        resp = post(gateway, "/v1/embeddings", json=body)
        assert resp.status_code == 400
        assert envelope(resp)["param"] == "dimensions"


@pytest.fixture(scope="module")
def roomy_gateway(
    background: BackgroundLoop, mock_upstream: MockUpstream
) -> Iterator[GatewayServer]:
    deployment = {"provider": "openai", "api_base": mock_upstream.url, "model": "m", "name": "m"}
    catalogue = Catalogue.model_validate(
        {"models": [{"name": "mock", "deployments": [deployment]}]}
    )
    settings = Settings(catalogue=catalogue, max_body_bytes=8 * 1024 * 1024)
    with run_gateway(background, settings) as server:
        yield server


@pytest.mark.parametrize(
    ("messages", "what"),
    [
        ([{"role": "user", "content": "x"}] * (MAX_MESSAGES + 1), "messages"),
        (
            [{"role": "user", "content": [{"type": "text", "text": "x"}] * 5_001}] * 2,
            "content parts",
        ),
    ],
)
def test_message_and_part_counts_are_bounded(
    roomy_gateway: GatewayServer, messages: list[object], what: str
) -> None:
    resp = post(roomy_gateway, "/v1/chat/completions", json={"model": "mock", "messages": messages})
    assert resp.status_code == 400
    err = envelope(resp)
    assert err["param"] == "messages" and what in str(err["message"])


def test_flood_of_tiny_messages_is_refused_quickly(roomy_gateway: GatewayServer) -> None:
    raw = b'{"model":"mock","messages":[' + b",".join([b'{"role":"user"}'] * 245_000) + b"]}"
    started = time.perf_counter()
    resp = post(roomy_gateway, "/v1/chat/completions", content=raw)
    assert resp.status_code == 400
    assert time.perf_counter() - started < 2.0


def test_a_500_keeps_the_pooled_connection_usable(roomy_gateway: GatewayServer) -> None:
    gateway = roomy_gateway.gateway
    healthy = gateway.pipeline

    async def broken(ctx: object) -> object:
        raise RuntimeError("a bug")

    gateway.pipeline = broken
    try:
        with httpx.Client(base_url=roomy_gateway.base, timeout=10) as client:
            for _ in range(5):
                failed = client.post("/v1/chat/completions", json=chat("mock"))
                assert failed.status_code == 500
                assert envelope(failed)["type"] == "server_error"
                assert "a bug" not in failed.text
                assert client.get("/v1/models").status_code == 200
    finally:
        gateway.pipeline = healthy


def test_after_a_500_the_same_socket_answers_again(roomy_gateway: GatewayServer) -> None:
    """Deterministic: one raw keep-alive socket, a 500, then a second request on it."""
    gateway = roomy_gateway.gateway
    healthy = gateway.pipeline

    async def broken(ctx: object) -> object:
        raise RuntimeError("a bug")

    body = orjson.dumps(chat("mock"))
    failing = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    gateway.pipeline = broken
    try:
        with socket.create_connection(("127.0.0.1", roomy_gateway.port), timeout=5) as sock:
            sock.sendall(failing)
            first = _read_response(sock)
            assert first.startswith(b"HTTP/1.1 500")
            closing = b"connection: close" in first.lower()
            sock.sendall(b"GET /v1/models HTTP/1.1\r\nHost: gw\r\n\r\n")
            second = _read_response(sock)
            assert closing or second.startswith(b"HTTP/1.1 200"), (first, second)
    finally:
        gateway.pipeline = healthy


def _read_response(sock: socket.socket) -> bytes:
    """One HTTP/1.1 response with a Content-Length body (b"" if the server closed)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return head + b"\r\n\r\n" + rest
