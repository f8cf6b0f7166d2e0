"""Bad input and upstream failures come back as the OpenAI envelope with the right status."""

from __future__ import annotations

import httpx
import openai
import pytest

from switchboard.testing.harness import GatewayServer

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
        (chat("mock", n=3), "n"),
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
