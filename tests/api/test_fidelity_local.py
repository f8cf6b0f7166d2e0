"""Say no clearly: what the embedded `local` model cannot honour is a 400 naming the parameter
and the model, never a 200 that ignored it (checked before the weights are needed)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest

from switchboard.config import Settings
from switchboard.testing.harness import BackgroundLoop, GatewayServer, run_gateway

TOOL = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
IMAGE = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}


@pytest.fixture(scope="module")
def local_gw(background: BackgroundLoop) -> Iterator[GatewayServer]:
    with run_gateway(background, Settings(preload_local_model=False)) as server:
        yield server


@pytest.mark.parametrize(
    ("param", "extra", "content"),
    [
        ("tools", {"tools": [TOOL]}, "hi"),
        ("response_format", {"response_format": {"type": "json_object"}}, "hi"),
        ("logprobs", {"logprobs": True}, "hi"),
        ("messages", {}, [{"type": "text", "text": "What is this?"}, IMAGE]),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_local_refuses_what_it_cannot_honour(
    local_gw: GatewayServer, param: str, extra: dict[str, Any], content: Any, stream: bool
) -> None:
    client = openai.OpenAI(base_url=local_gw.url, api_key="x", max_retries=0, timeout=10)
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="local",
            messages=[{"role": "user", "content": content}],
            stream=stream,
            extra_body=extra,
        )
    error = caught.value.body
    assert isinstance(error, dict)
    assert error["param"] == param
    assert "`local`" in error["message"] and f"`{param}`" in error["message"]
