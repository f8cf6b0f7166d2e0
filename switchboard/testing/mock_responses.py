"""The mock provider's `POST /v1/responses`: OpenAI's Responses API, as JSON or as the typed SSE
events (`response.created` ... `response.completed`, with usage), with the same latency and
faults as its chat completions (x-mock-* headers), so that a gateway's passthrough can be
exercised and load-tested like its chat path.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from switchboard.testing import mock_wire as wire

if TYPE_CHECKING:
    from switchboard.testing.mock_http import HttpConnection
    from switchboard.testing.mock_provider import MockStats, _Plan

STREAM_TYPE = "text/event-stream; charset=utf-8"
_ECHOED: tuple[str, ...] = ("instructions", "max_output_tokens", "metadata", "store", "user")
_ECHOED += ("previous_response_id", "temperature", "top_p", "tools", "tool_choice", "text")


def prompt_tokens(body: dict[str, Any]) -> int:
    """About four characters a token, over the instructions and every input item's text."""
    raw = body.get("input")
    if isinstance(raw, str):
        items: list[Any] = [{"content": raw}]
    elif isinstance(raw, list):
        items = list(raw)
    else:
        raise wire.BadInput("'input' must be a string or an array of items", "input")
    if isinstance(body.get("instructions"), str):
        items.append({"content": body["instructions"]})
    texts: list[dict[str, Any]] = []
    for item in items:
        content = item.get("content") if isinstance(item, dict) else None
        if isinstance(content, str):
            texts.append({"content": content})
        elif isinstance(content, list):
            texts.append({"content": [p for p in content if isinstance(p, dict)]})
    return wire.prompt_tokens(texts)


def usage(prompt: int, completion: int) -> dict[str, Any]:
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": prompt + completion,
    }


def base_response(response_id: str, body: dict[str, Any], model: str) -> dict[str, Any]:
    """The response object before its outcome: id, model and the echoed request settings."""
    echoed = {k: body.get(k) for k in _ECHOED}
    echoed["metadata"] = echoed["metadata"] or {}
    echoed["tools"] = echoed["tools"] or []
    return {
        "id": response_id,
        "object": "response",
        "created_at": int(time.time()),
        "model": model,
        "status": "in_progress",
        "error": None,
        "incomplete_details": None,
        "output": [],
        "parallel_tool_calls": True,
        "usage": None,
        **echoed,
    }


def message(item_id: str, text: str, status: str = "completed") -> dict[str, Any]:
    part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    content = [part] if status == "completed" else []
    return {"type": "message", "id": item_id, "role": "assistant", "status": status,
            "content": content}  # fmt: skip


def finished(base: dict[str, Any], item: dict[str, Any], truncated: bool, use: Any) -> Any:
    outcome: dict[str, Any] = {"status": "incomplete" if truncated else "completed"}
    outcome["output"] = [item]
    if truncated:
        outcome["incomplete_details"] = {"reason": "max_output_tokens"}
    return {**base, **outcome, "usage": use}


class EventWriter:
    """Numbers the events of one stream (`sequence_number`) and frames them as SSE."""

    def __init__(self) -> None:
        self.seq = 0

    def __call__(self, kind: str, **fields: Any) -> bytes:
        data = {"type": kind, "sequence_number": self.seq, **fields}
        self.seq += 1
        return b"event: " + kind.encode() + b"\ndata: " + wire.dumps(data) + b"\n\n"


async def stream(
    conn: HttpConnection,
    plan: _Plan,
    base: dict[str, Any],
    item_id: str,
    use: dict[str, Any],
    stats: MockStats,
) -> None:
    """The typed events of one streamed response; a cut drops the connection mid-text."""
    event = EventWriter()
    try:
        if plan.ttft_s > 0:
            await asyncio.sleep(plan.ttft_s)
        opening = event("response.created", response=base)
        opening += event("response.in_progress", response=base)
        opening += event("response.output_item.added", output_index=0,
                         item=message(item_id, "", "in_progress"))  # fmt: skip
        empty = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
        opening += event("response.content_part.added", item_id=item_id, output_index=0,
                         content_index=0, part=empty)  # fmt: skip
        conn.start_chunked(200, STREAM_TYPE, (("cache-control", "no-cache"),), first=opening)
        pieces: list[str] = []
        for i, word in enumerate(wire.words(plan.tokens)):
            if plan.cut_after is not None and i >= plan.cut_after:
                stats.cuts += 1
                conn.abort()
                return
            if i and plan.itl_s > 0:
                await asyncio.sleep(plan.itl_s)
            pieces.append(f" {word}" if i else word)
            conn.write_chunk(event("response.output_text.delta", item_id=item_id, output_index=0,
                                   content_index=0, delta=pieces[-1], logprobs=[]))  # fmt: skip
            await conn.drain()
        item = message(item_id, "".join(pieces))
        final = finished(base, item, plan.truncated, use)
        where = {"item_id": item_id, "output_index": 0, "content_index": 0}
        tail = event("response.output_text.done", **where, text=item["content"][0]["text"],
                     logprobs=[])  # fmt: skip
        tail += event("response.content_part.done", **where, part=item["content"][0])
        tail += event("response.output_item.done", output_index=0, item=item)
        kind = "response.incomplete" if plan.truncated else "response.completed"
        conn.end_chunked(tail + event(kind, response=final))
        stats.completed_streams += 1
    except asyncio.CancelledError:
        if conn.closed_by_peer:
            stats.client_disconnects += 1
        raise
