"""A scripted OpenAI-wire upstream: answers chat completions with the message it is told to
(tool calls included), as JSON or streamed in fragments, and records what it received."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web


@dataclass
class Script:
    """The assistant message to answer with, its finish reason and its usage."""

    message: dict[str, Any]
    finish_reason: str = "stop"
    usage: dict[str, Any] = field(
        default_factory=lambda: {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
    )


def _chunks(script: Script, include_usage: bool) -> list[dict[str, Any]]:
    """The message as OpenAI streams it: role, reasoning, text and refusal in pieces, each tool
    call in pieces."""
    msg = script.message
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    thought = msg.get("reasoning_content") or ""
    deltas += [{"reasoning_content": thought[i : i + 5]} for i in range(0, len(thought), 5)]
    text = msg.get("content") or ""
    deltas += [{"content": text[i : i + 5]} for i in range(0, len(text), 5)]
    refusal = msg.get("refusal") or ""
    deltas += [{"refusal": refusal[i : i + 5]} for i in range(0, len(refusal), 5)]
    for index, call in enumerate(msg.get("tool_calls") or ()):
        head = {"index": index, "id": call["id"], "type": "function"}
        deltas.append({"tool_calls": [{**head, "function": {"name": call["function"]["name"]}}]})
        args = call["function"]["arguments"]
        half = len(args) // 2
        for piece in (args[:half], args[half:]):
            deltas.append({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    choices = [{"index": 0, "delta": d, "finish_reason": None} for d in deltas]
    choices.append({"index": 0, "delta": {}, "finish_reason": script.finish_reason})
    chunks: list[dict[str, Any]] = [{"choices": [c]} for c in choices]
    if include_usage:
        chunks.append({"choices": [], "usage": script.usage})
    return chunks


class ScriptedUpstream:
    """`scripts` are served in order, one a request (the last one repeats); `received` lists
    the request bodies seen."""

    def __init__(self) -> None:
        self.scripts: list[Script] = []
        self.received: list[dict[str, Any]] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}/v1"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def last(self) -> dict[str, Any]:
        return self.received[-1]

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = orjson.loads(await request.read())
        self.received.append(body)
        script = self.scripts.pop(0) if len(self.scripts) > 1 else self.scripts[0]
        head = {"id": "chatcmpl-scripted", "created": 1700000000, "model": body["model"]}
        if not body.get("stream"):
            choice = {"index": 0, "message": script.message, "finish_reason": script.finish_reason}
            reply = {**head, "object": "chat.completion", "choices": [choice]}
            return web.json_response({**reply, "usage": script.usage}, dumps=_dumps)
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        for chunk in _chunks(script, include_usage):
            data = {**head, "object": "chat.completion.chunk", **chunk}
            await response.write(b"data: " + orjson.dumps(data) + b"\n\n")
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()
