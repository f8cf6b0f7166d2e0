"""A scripted upstream for Responses passthrough: `POST /v1/responses` answers with a response
(and, streamed, events) full of fields and event types Switchboard does not know, and records
the bodies it received."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

USAGE = {
    "input_tokens": 1234,
    "input_tokens_details": {"cached_tokens": 1000},
    "output_tokens": 56,
    "output_tokens_details": {"reasoning_tokens": 7},
    "total_tokens": 1290,
}
SEARCH = {
    "type": "web_search_call",
    "id": "ws_1",
    "status": "completed",
    "action": {"type": "search", "query": "weather in Paris"},
}
CITED = {
    "type": "output_text",
    "text": "Sunny.",
    "annotations": [
        {
            "type": "url_citation",
            "url": "https://example.com/w",
            "start_index": 0,
            "end_index": 6,
            "title": "Weather",
        }
    ],
    "logprobs": [],
}
MESSAGE = {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
           "content": [CITED]}  # fmt: skip
RESPONSE: dict[str, Any] = {
    "id": "resp_upstream_1",
    "object": "response",
    "created_at": 1700000000,
    "status": "completed",
    "model": "gpt-upstream-2031",
    "store": False,
    "previous_response_id": None,
    "output": [SEARCH, MESSAGE],
    "usage": USAGE,
    "service_tier": "flex",
    "x_upstream_only": {"nested": [1, 2, 3]},
}
_OPEN = {**RESPONSE, "status": "in_progress", "output": [], "usage": None}
EVENTS: list[dict[str, Any]] = [
    {"type": "response.created", "response": _OPEN},
    {"type": "response.in_progress", "response": _OPEN},
    {"type": "response.output_item.added", "output_index": 0,
     "item": {**SEARCH, "status": "in_progress"}},
    {"type": "response.web_search_call.searching", "output_index": 0, "item_id": "ws_1"},
    {"type": "response.x_vendor.progress", "output_index": 0, "x_detail": {"pct": 50}},
    {"type": "response.output_item.done", "output_index": 0, "item": SEARCH},
    {"type": "response.output_item.added", "output_index": 1,
     "item": {**MESSAGE, "status": "in_progress", "content": []}},
    {"type": "response.content_part.added", "output_index": 1, "item_id": "msg_1",
     "content_index": 0, "part": {**CITED, "text": "", "annotations": []}},
    {"type": "response.output_text.delta", "output_index": 1, "item_id": "msg_1",
     "content_index": 0, "delta": "Sun", "logprobs": [], "obfuscation": "q1"},
    {"type": "response.output_text.annotation.added", "output_index": 1, "item_id": "msg_1",
     "content_index": 0, "annotation_index": 0, "annotation": CITED["annotations"][0]},
    {"type": "response.output_text.delta", "output_index": 1, "item_id": "msg_1",
     "content_index": 0, "delta": "ny.", "logprobs": [], "obfuscation": "q2"},
    {"type": "response.output_text.done", "output_index": 1, "item_id": "msg_1",
     "content_index": 0, "text": "Sunny.", "logprobs": []},
    {"type": "response.content_part.done", "output_index": 1, "item_id": "msg_1",
     "content_index": 0, "part": CITED},
    {"type": "response.output_item.done", "output_index": 1, "item": MESSAGE},
    {"type": "response.completed", "response": RESPONSE},
]  # fmt: skip
for _seq, _event in enumerate(EVENTS):
    _event["sequence_number"] = _seq


def owned(data: dict[str, Any], model: str, store: bool = True) -> dict[str, Any]:
    """What the client should see of an upstream response object or event."""
    if data.get("object") == "response":
        return {**data, "model": model, "store": store, "previous_response_id": None}
    if isinstance(data.get("response"), dict):
        return {**data, "response": owned(data["response"], model, store)}
    return data


class NativeUpstream:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = orjson.loads(await request.read())
        self.received.append(body)
        if not body.get("stream"):
            return web.json_response(RESPONSE)
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        for event in EVENTS:
            kind = event["type"].encode()
            await resp.write(b"event: " + kind + b"\ndata: " + orjson.dumps(event) + b"\n\n")
        await resp.write_eof()
        return resp
