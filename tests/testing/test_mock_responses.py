"""The mock provider's `POST /v1/responses`, read by the real `openai` SDK: JSON and typed SSE
events with usage, `max_output_tokens`, and the x-mock-* faults."""

from __future__ import annotations

import httpx
import openai
import pytest

from switchboard.testing.harness import MockUpstream


def client(up: MockUpstream) -> openai.OpenAI:
    return openai.OpenAI(base_url=up.url, api_key="unused", max_retries=0, timeout=10)


def test_json_response_with_usage(mock_upstream: MockUpstream) -> None:
    resp = client(mock_upstream).responses.create(
        model="m1", input="Say hello to the world", instructions="be brief"
    )
    assert resp.object == "response" and resp.status == "completed" and resp.model == "m1"
    assert resp.output_text.split() == ["lorem", "ipsum", "dolor", "sit", "amet", "consectetur",
                                        "adipiscing", "elit"]  # fmt: skip
    assert resp.usage is not None and resp.usage.output_tokens == 8
    assert resp.usage.input_tokens == len("Say hello to the worldbe brief") // 4 + 1
    assert resp.usage.total_tokens == resp.usage.input_tokens + 8
    assert resp.instructions == "be brief"
    assert mock_upstream.last_request()["path"] == "/v1/responses"


def test_stream_events_end_with_the_completed_response(mock_upstream: MockUpstream) -> None:
    events = list(client(mock_upstream).responses.create(model="m1", input="hi", stream=True))
    kinds = [e.type for e in events]
    assert kinds[:4] == ["response.created", "response.in_progress",
                         "response.output_item.added", "response.content_part.added"]  # fmt: skip
    assert kinds[4:12] == ["response.output_text.delta"] * 8
    assert kinds[12:] == ["response.output_text.done", "response.content_part.done",
                          "response.output_item.done", "response.completed"]  # fmt: skip
    assert [e.sequence_number for e in events] == list(range(len(events)))
    final = events[-1].response  # type: ignore[union-attr]
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")  # type: ignore[union-attr]
    assert final.output_text == text and final.usage is not None
    assert final.usage.output_tokens == 8


def test_max_output_tokens_is_incomplete(mock_upstream: MockUpstream) -> None:
    c = client(mock_upstream)
    resp = c.responses.create(model="m1", input="hi", max_output_tokens=3)
    assert resp.status == "incomplete" and resp.incomplete_details is not None
    assert resp.incomplete_details.reason == "max_output_tokens"
    events = list(c.responses.create(model="m1", input="hi", max_output_tokens=3, stream=True))
    assert events[-1].type == "response.incomplete"


def test_faults_and_bad_input(mock_upstream: MockUpstream) -> None:
    c = client(mock_upstream)
    with pytest.raises(openai.RateLimitError):
        c.responses.create(model="m1", input="hi", extra_headers={"x-mock-error-status": "429"})
    with pytest.raises(openai.BadRequestError) as bad:
        c.responses.create(model="m1", input=7)  # type: ignore[arg-type]
    assert bad.value.body["param"] == "input"  # type: ignore[index]
    seen = b""
    with (
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream(
            "POST",
            f"{mock_upstream.url}/responses",
            json={"model": "m1", "input": "hi", "stream": True},
            headers={"x-mock-cut-after": "2"},
        ) as cut,
    ):
        for piece in cut.iter_bytes():
            seen += piece
    assert seen.count(b"event: response.output_text.delta") == 2  # then the connection drops
    assert b"response.completed" not in seen
