"""The fidelity upstream, as client libraries meet it: the scenario is the last user message's
text (a string or text parts), the reply carries the model asked for (so a library pointed
straight at it and one pointed at the gateway see the same), "structured" answers whatever
tool or JSON schema the library asked for, and `/v1/completions` answers what OpenAI's legacy
endpoint would for the same reply (the baseline for libraries that use it)."""

from __future__ import annotations

import copy
from typing import Any

import orjson
from aiohttp import web

from tests.api.fidelity_upstream import (
    PLAIN,
    USAGE,
    FidelityUpstream,
    _call_pieces,
    _chunk,
    _response,
    stream_chunks,
    usage_chunk,
)

STRUCTURED = {"city": "Paris", "temperature_c": 21}
STRUCTURED_JSON = orjson.dumps(STRUCTURED).decode()
ASKED = ("messages", "tools", "tool_choice", "response_format", "n", "logprobs")


def scenario(body: dict[str, Any]) -> str:
    """The last user message's text; once tool results came back, the plain answer."""
    if body["messages"][-1]["role"] == "tool":
        return "everything"
    user = [m for m in body["messages"] if m["role"] == "user"][-1]["content"]
    if isinstance(user, list):
        user = "".join(p.get("text", "") for p in user)
    return str(user).strip()


def _structured(body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The structured answer in the form the request asked for: a call of its first tool
    (instructor's and pydantic-ai's output tools), else JSON text (response_format)."""
    if body.get("tools"):
        name = body["tools"][0]["function"]["name"]
        call = {"id": "call_out", "type": "function"}
        call["function"] = {"name": name, "arguments": STRUCTURED_JSON}
        return {"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls"
    return {"role": "assistant", "content": STRUCTURED_JSON}, "stop"


def _structured_chunks(body: dict[str, Any]) -> list[dict[str, Any]]:
    message, finish = _structured(body)
    chunks = [_chunk({"role": "assistant", "content": message["content"]})]
    if message.get("tool_calls"):
        chunks += [_chunk({"tool_calls": [p]}) for p in _call_pieces(0, message["tool_calls"][0])]
    else:
        half = len(STRUCTURED_JSON) // 2
        chunks[0]["choices"][0]["delta"]["content"] = ""
        chunks += [_chunk({"content": p}) for p in (STRUCTURED_JSON[:half], STRUCTURED_JSON[half:])]
    return [*chunks, _chunk({}, finish)]


class ClientsUpstream(FidelityUpstream):
    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/completions", self._completions)

    def asked_alike(self, keys: tuple[str, ...] = ASKED) -> bool:
        """Whether the last two requests (the library's straight one, then the gateway's) ask
        for the same: the tools, the schema, the messages."""
        direct, via = self.received[-2:]
        return [direct.get(k) for k in keys] == [via.get(k) for k in keys]

    def reply(self, body: dict[str, Any]) -> dict[str, Any]:
        name = scenario(body)
        if name == "structured":
            reply = _response(*_structured(body))
        else:
            reply = copy.deepcopy(PLAIN[name])
        return {**reply, "model": body["model"]}

    def chunks(self, body: dict[str, Any], include_usage: bool) -> list[dict[str, Any]]:
        name = scenario(body)
        if name != "structured":
            chunks = stream_chunks(name, include_usage)
        elif include_usage:
            chunks = [{**c, "usage": None} for c in _structured_chunks(body)] + [usage_chunk()]
        else:
            chunks = _structured_chunks(body)
        return [{**c, "model": body["model"]} for c in chunks]

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        """OpenAI's legacy completions for the chat scenario named by the prompt."""
        body = await request.json()
        self.received.append(body)
        chat = {"model": body["model"], "messages": [{"role": "user", "content": body["prompt"]}]}
        if not body.get("stream"):
            reply = self.reply(chat)
            return web.json_response(
                _as_completion(reply), dumps=lambda v: orjson.dumps(v).decode()
            )
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        for chunk in self.chunks(chat, include_usage):
            text = _as_completion_chunk(chunk)
            if text is not None:
                await resp.write(b"data: " + orjson.dumps(text) + b"\n\n")
        await resp.write(b"data: [DONE]\n\n")
        return resp


def _as_completion(reply: dict[str, Any]) -> dict[str, Any]:
    choices = [
        {
            "index": c["index"],
            "text": c["message"].get("content") or "",
            "logprobs": None,
            "finish_reason": c["finish_reason"],
        }
        for c in reply["choices"]
    ]
    keep = ("id", "created", "model", "system_fingerprint")
    return {
        "object": "text_completion",
        **{k: reply[k] for k in keep},
        "choices": choices,
        "usage": USAGE,
    }


def _as_completion_chunk(chunk: dict[str, Any]) -> dict[str, Any] | None:
    """A chat chunk as OpenAI streams a legacy completion: text pieces, the finish, the usage."""
    choices = [
        {
            "index": c["index"],
            "text": c["delta"].get("content") or "",
            "logprobs": None,
            "finish_reason": c["finish_reason"],
        }
        for c in chunk["choices"]
        if c["delta"].get("content") or c["finish_reason"]
    ]
    if not choices and chunk.get("usage") is None:
        return None
    keep = ("id", "created", "model", "system_fingerprint")
    out = {"object": "text_completion", **{k: chunk[k] for k in keep}, "choices": choices}
    if chunk.get("usage") is not None:
        out["usage"] = chunk["usage"]
    return out
