"""The anthropic SDK (`/v1/messages`) and `client.responses` of the openai SDK against the
embedded local model (real generation), plain and streamed: the translated routes serve every
catalogue model, not only OpenAI-wire upstreams."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import openai
import pytest

from switchboard.config import Settings
from switchboard.testing.harness import BackgroundLoop, GatewayServer, run_gateway

QUESTION = "What is the capital of France?"


@pytest.fixture(scope="module")
def local_gateway(background: BackgroundLoop) -> Iterator[GatewayServer]:
    with run_gateway(background, Settings(local_default_max_tokens=24)) as server:
        yield server


def test_anthropic_sdk_on_local(local_gateway: GatewayServer) -> None:
    c = anthropic.Anthropic(base_url=local_gateway.base, api_key="x", max_retries=0, timeout=120)
    ask = {"model": "local", "max_tokens": 16, "extra_body": {"temperature": 0}}
    msg = c.messages.create(**ask, messages=[{"role": "user", "content": QUESTION}])  # type: ignore[call-overload]
    assert "Paris" in msg.content[0].text
    assert msg.usage.input_tokens > 5 and 0 < msg.usage.output_tokens <= 16
    with c.messages.stream(**ask, messages=[{"role": "user", "content": QUESTION}]) as stream:  # type: ignore[arg-type]
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert len(pieces) >= 2 and "Paris" in "".join(pieces)
    assert final.stop_reason in ("end_turn", "max_tokens") and final.usage.output_tokens > 0


def test_responses_on_local(local_gateway: GatewayServer) -> None:
    c = openai.OpenAI(base_url=local_gateway.url, api_key="x", max_retries=0, timeout=120)
    resp = c.responses.create(model="local", input=QUESTION, max_output_tokens=16, temperature=0)
    assert "Paris" in resp.output_text
    assert resp.usage is not None and 0 < resp.usage.output_tokens <= 16
    with c.responses.stream(
        model="local", input=QUESTION, max_output_tokens=16, temperature=0
    ) as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert len(deltas) >= 2 and final.output_text == "".join(deltas)
    assert "Paris" in final.output_text
