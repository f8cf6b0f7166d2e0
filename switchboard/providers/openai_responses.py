"""OpenAI's Responses wire, passed through for deployments with `responses_api: native`.

The client's body goes to the upstream's own `/v1/responses` with only `model` (the
deployment's) and `stream` set; the reply object and each stream event come back whole in
`native`, beside the little the pipeline reads of them (text and tool-call deltas for the
first-token and failover rule, the finish, and the usage that limits, budgets and records book).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from switchboard.domain import ChatChunk, ChatRequest, ChatResponse, Choice, ChunkChoice, Usage
from switchboard.errors import ProviderError
from switchboard.providers.base import SseEvent, UpstreamRequest

ErrorOf = Callable[[int, bytes, dict[str, str]], ProviderError]
_FINISH = {"max_output_tokens": "length", "content_filter": "content_filter"}
_ENDS = ("response.completed", "response.incomplete")
_FAILS = ("error", "response.failed")
_TEXT_DELTAS = {
    "response.refusal.delta": "refusal",
    "response.reasoning_text.delta": "reasoning_content",
    "response.reasoning_summary_text.delta": "reasoning_content",
}


def responses_request(
    request: ChatRequest, path: str, model: str, headers: dict[str, str], *, stream: bool
) -> UpstreamRequest:
    assert request.native is not None
    body = {**request.native.body, "model": model, "stream": stream}
    return UpstreamRequest(path, orjson.dumps(body), headers)


def responses_usage(data: object) -> Usage | None:
    if not isinstance(data, dict):
        return None
    details_in = data.get("input_tokens_details") or {}
    details_out = data.get("output_tokens_details") or {}
    return Usage(
        prompt_tokens=int(data.get("input_tokens") or 0),
        completion_tokens=int(data.get("output_tokens") or 0),
        cached_tokens=int(details_in.get("cached_tokens") or 0),
        reasoning_tokens=int(details_out.get("reasoning_tokens") or 0),
    )


def finish_of(response: dict[str, Any], calls: bool) -> str:
    reason = (response.get("incomplete_details") or {}).get("reason")
    if response.get("status") == "incomplete":
        return _FINISH.get(str(reason), "length")
    return "tool_calls" if calls else "stop"


def tool_call(item: dict[str, Any], arguments: str, index: int | None = None) -> dict[str, Any]:
    call: dict[str, Any] = {
        "id": item.get("call_id"),
        "type": "function",
        "function": {"name": item.get("name") or "", "arguments": arguments},
    }
    return call if index is None else {"index": index, **call}


def parse_response(body: bytes, request: ChatRequest) -> ChatResponse:
    """The upstream's response object, kept whole in `native`; the chat view of its output."""
    data = orjson.loads(body)
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for item in data.get("output") or ():
        if item.get("type") == "message":
            parts = item.get("content") or ()
            texts += [p.get("text") or "" for p in parts if p.get("type") == "output_text"]
        elif item.get("type") == "function_call":
            calls.append(tool_call(item, item.get("arguments") or ""))
    choice = Choice(0, "".join(texts) or None, finish_of(data, bool(calls)), calls or None)
    return ChatResponse(
        id=str(data.get("id") or ""),
        created=int(data.get("created_at") or 0),
        model=request.model,
        choices=[choice],
        usage=responses_usage(data.get("usage")),
        native=data,
    )


class ResponsesStreamParser:
    """Each upstream event is one chunk carrying the event whole; an `error` or
    `response.failed` event is raised, so a stream that fails before its first token fails
    over like any other."""

    def __init__(self, model: str, error: ErrorOf) -> None:
        self._model = model
        self._error = error
        self._id = ""
        self._created = 0
        self._done = False

    def feed(self, event: SseEvent) -> list[ChatChunk]:
        if event.data == "[DONE]":  # not OpenAI's, but some OpenAI-compatible servers' end
            return []
        data = orjson.loads(event.data)
        if not isinstance(data, dict):
            return []
        kind = data.get("type") or event.event
        response = data.get("response")
        if isinstance(response, dict):
            self._id = str(response.get("id") or self._id)
            self._created = int(response.get("created_at") or self._created)
        if kind in _FAILS:
            raise self._error(500, orjson.dumps(failure_of(data)), {})
        usage = None
        choices = self._choices(kind, data)
        if kind in _ENDS and isinstance(response, dict):
            self._done = True
            usage = responses_usage(response.get("usage"))
            calls = any(i.get("type") == "function_call" for i in response.get("output") or ())
            choices = [ChunkChoice(finish_reason=finish_of(response, calls))]
        chunk = ChatChunk(self._id, self._created, self._model, choices, usage, native=data)
        return [chunk]

    def _choices(self, kind: str, data: dict[str, Any]) -> list[ChunkChoice]:
        delta = data.get("delta")
        if kind == "response.output_text.delta" and isinstance(delta, str):
            return [ChunkChoice(content=delta)]
        if kind in _TEXT_DELTAS and isinstance(delta, str):
            return [ChunkChoice(delta_extra={_TEXT_DELTAS[kind]: delta})]
        index = int(data.get("output_index") or 0)
        item = data.get("item")
        if kind == "response.output_item.added" and isinstance(item, dict):
            if item.get("type") == "function_call":
                return [ChunkChoice(tool_calls=[tool_call(item, "", index)])]
        if kind == "response.function_call_arguments.delta" and isinstance(delta, str):
            return [ChunkChoice(tool_calls=[{"index": index, "function": {"arguments": delta}}])]
        return []

    def done(self) -> bool:
        return self._done

    def finished(self) -> bool:
        return self._done


def failure_of(data: dict[str, Any]) -> dict[str, Any]:
    """An `error` event, or the error of a `response.failed` one, as OpenAI's error body."""
    response = data.get("response")
    error = response.get("error") if isinstance(response, dict) else data
    error = error if isinstance(error, dict) else {}
    return {"error": {"message": error.get("message") or "the upstream response failed"}}
