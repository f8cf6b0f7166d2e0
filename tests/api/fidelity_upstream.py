"""A recording OpenAI-wire upstream that answers with verbatim bodies: every field OpenAI (and
its look-alikes) may send, so tests can check each reaches the client unchanged.

The reply is picked by the last user message's text (a key of PLAIN / STREAMS); a request with
`n` > 1 gets n copies of the choice, indexed 0..n-1. `received` lists the request bodies seen.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson
from aiohttp import web

UPSTREAM_MODEL = "gpt-upstream-2024"

_LOGPROB = {
    "token": "Hi",
    "logprob": -0.25,
    "bytes": [72, 105],
    "top_logprobs": [{"token": "Hi", "logprob": -0.25, "bytes": [72, 105]}],
}
USAGE = {
    "prompt_tokens": 12,
    "completion_tokens": 5,
    "total_tokens": 17,
    "prompt_tokens_details": {"cached_tokens": 8, "audio_tokens": 0},
    "completion_tokens_details": {
        "reasoning_tokens": 3,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 1,
    },
}


TOOL_CALLS = [
    {
        "id": "call_paris",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
    },
    {
        "id": "call_rome",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'},
    },
]


def _response(message: dict[str, Any], finish: str, **choice: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-upstream-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": UPSTREAM_MODEL,
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": finish, **choice}
        ],
        "usage": USAGE,
        "service_tier": "default",
        "system_fingerprint": "fp_0123abcd",
    }


PLAIN: dict[str, dict[str, Any]] = {
    "everything": _response(
        {
            "role": "assistant",
            "content": "Hi",
            "refusal": None,
            "annotations": [
                {
                    "type": "url_citation",
                    "url_citation": {
                        "start_index": 0,
                        "end_index": 2,
                        "title": "Example",
                        "url": "https://example.com/",
                    },
                }
            ],
            "reasoning_content": "The user greets me; greet back.",
        },
        "stop",
        logprobs={"content": [_LOGPROB], "refusal": None},
        content_filter_results={"hate": {"filtered": False, "severity": "safe"}},
    ),
    "refusal": _response(
        {"role": "assistant", "content": None, "refusal": "I can't help with that."}, "stop"
    ),
    "function_call": _response(
        {
            "role": "assistant",
            "content": None,
            "function_call": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
        },
        "function_call",
    ),
    "tool_calls": _response(
        {"role": "assistant", "content": None, "refusal": None, "tool_calls": TOOL_CALLS},
        "tool_calls",
    ),
    "audio": _response(
        {
            "role": "assistant",
            "content": None,
            "audio": {
                "id": "audio_abc",
                "data": "UklGRg==",
                "expires_at": 1_700_003_600,
                "transcript": "Hi",
            },
        },
        "stop",
    ),
}


def _chunk(delta: dict[str, Any], finish: str | None = None, **choice: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-upstream-2",
        "object": "chat.completion.chunk",
        "created": 1_700_000_001,
        "model": UPSTREAM_MODEL,
        "service_tier": "default",
        "system_fingerprint": "fp_0123abcd",
        "choices": [
            {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish, **choice}
        ],
    }


def _call_pieces(index: int, call: dict[str, Any]) -> list[dict[str, Any]]:
    """A tool call as OpenAI streams it: id, type and name first, then the arguments in two."""
    name = {"name": call["function"]["name"], "arguments": ""}
    head = {"index": index, "id": call["id"], "type": "function", "function": name}
    args = call["function"]["arguments"]
    half = len(args) // 2
    return [head] + [
        {"index": index, "function": {"arguments": p}} for p in (args[:half], args[half:])
    ]


STREAMS: dict[str, list[dict[str, Any]]] = {
    "everything": [
        _chunk({"role": "assistant", "content": "", "refusal": None}),
        _chunk({"reasoning_content": "The user greets me; "}),
        _chunk({"reasoning_content": "greet back."}),
        _chunk({"content": "Hi"}, logprobs={"content": [_LOGPROB], "refusal": None}),
        _chunk(
            {
                "annotations": [
                    {"type": "url_citation", "url_citation": {"url": "https://example.com/"}}
                ]
            }
        ),
        _chunk({}, "stop"),
    ],
    "refusal": [
        _chunk({"role": "assistant", "content": None, "refusal": ""}),
        _chunk({"refusal": "I can't "}),
        _chunk({"refusal": "help with that."}),
        _chunk({}, "stop"),
    ],
    "function_call": [
        _chunk(
            {
                "role": "assistant",
                "content": None,
                "function_call": {"name": "get_weather", "arguments": ""},
            }
        ),
        _chunk({"function_call": {"arguments": '{"city": '}}),
        _chunk({"function_call": {"arguments": '"Paris"}'}}),
        _chunk({}, "function_call"),
    ],
    "tool_calls": [
        _chunk({"role": "assistant", "content": None, "refusal": None}),
        *[
            _chunk({"tool_calls": [piece]})
            for i, call in enumerate(TOOL_CALLS)
            for piece in _call_pieces(i, call)
        ],
        _chunk({}, "tool_calls"),
    ],
}


def usage_chunk() -> dict[str, Any]:
    head = {k: v for k, v in _chunk({}).items() if k != "choices"}
    return {**head, "choices": [], "usage": USAGE}


def stream_chunks(name: str, include_usage: bool) -> list[dict[str, Any]]:
    """The upstream's chunks as sent: with `usage: null` on each, then a usage chunk, when asked."""
    chunks = copy.deepcopy(STREAMS[name])
    if not include_usage:
        return chunks
    return [{**c, "usage": None} for c in chunks] + [usage_chunk()]


def _copies(reply: dict[str, Any], n: int) -> dict[str, Any]:
    choices = [{**c, "index": i} for i in range(n) for c in reply["choices"]]
    return {**reply, "choices": choices}


class FidelityUpstream:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        self.add_routes(app)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/v1"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def add_routes(self, app: web.Application) -> None:
        """More endpoints, for a subclass."""

    def reply(self, body: dict[str, Any]) -> dict[str, Any]:
        """The plain reply to a chat request (one choice; `n` copies are made of it)."""
        return PLAIN[body["messages"][-1]["content"]]

    def chunks(self, body: dict[str, Any], include_usage: bool) -> list[dict[str, Any]]:
        """The streamed reply to a chat request (one choice's chunks, then usage if asked)."""
        return stream_chunks(body["messages"][-1]["content"], include_usage)

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.received.append(body)
        n = body.get("n") or 1
        if not body.get("stream"):
            return web.Response(
                body=orjson.dumps(_copies(self.reply(body), n)), content_type="application/json"
            )
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        for chunk in self.chunks(body, include_usage):
            for i in range(n if chunk["choices"] else 1):
                copy_i = {**chunk, "choices": [{**c, "index": i} for c in chunk["choices"]]}
                await resp.write(b"data: " + orjson.dumps(copy_i) + b"\n\n")
        await resp.write(b"data: [DONE]\n\n")
        return resp
