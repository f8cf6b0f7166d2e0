"""Streams end cleanly: a client disconnect cancels the upstream; a cut upstream is reported."""

from __future__ import annotations

import httpx
import openai
import pytest

from switchboard.testing.harness import GatewayServer, MockUpstream, wait_for


def test_client_disconnect_cancels_upstream(
    gateway: GatewayServer, mock_upstream: MockUpstream
) -> None:
    before = mock_upstream.stats()["client_disconnects"]
    body = {"model": "mock-slow", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    with httpx.Client(timeout=10) as http:
        with http.stream("POST", gateway.url + "/chat/completions", json=body) as resp:
            assert resp.status_code == 200
            lines = resp.iter_lines()
            got = [next(lines) for _ in range(4)]
            assert any(line.startswith("data: ") for line in got)
        # leaving the block closes the connection mid-stream (200 tokens at 50 ms would take 10 s)
    assert wait_for(lambda: mock_upstream.stats()["client_disconnects"] > before, timeout=3)


def test_cut_after_first_byte_ends_with_error_event(gateway: GatewayServer) -> None:
    c = openai.OpenAI(base_url=gateway.url, api_key="x", max_retries=0)
    stream = c.chat.completions.create(
        model="mock-cut", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    seen: list[str] = []
    with pytest.raises(openai.APIError):
        for chunk in stream:
            if chunk.choices:
                seen.append(chunk.choices[0].delta.content or "")
                assert chunk.choices[0].finish_reason is None  # never a fabricated "stop"
    assert "".join(seen).strip()  # some tokens arrived before the cut
    metrics = httpx.get(gateway.base + "/metrics").text
    assert 'switchboard_stream_truncations_total{model="mock-cut"}' in metrics


def test_raw_sse_framing(gateway: GatewayServer) -> None:
    body = {"model": "mock", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    resp = httpx.post(gateway.url + "/chat/completions", json=body, timeout=10)
    assert resp.headers["content-type"].startswith("text/event-stream")
    events = [e for e in resp.text.split("\n\n") if e]
    assert all(e.startswith("data: ") for e in events)
    assert events[-1] == "data: [DONE]"
