"""Anthropic Messages API adapter: OpenAI-shaped chat requests to `/v1/messages` and back.

`api_base` is the host root (default https://api.anthropic.com). Options read from the
deployment: `anthropic_version` (the `anthropic-version` header) and `default_max_tokens`
(Anthropic requires `max_tokens`; used when the client sent no limit).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import orjson

from switchboard.catalogue import DeploymentConfig
from switchboard.config import Settings
from switchboard.domain import (
    ChatRequest,
    ChatResponse,
    Choice,
    EmbeddingRequest,
    EmbeddingResponse,
    Message,
)
from switchboard.errors import InvalidRequest, ProviderError, UnsupportedOperation
from switchboard.providers.anthropic_stream import AnthropicStreamParser, finish_reason, parse_usage
from switchboard.providers.base import UpstreamRequest
from switchboard.providers.http import HttpProvider
from switchboard.providers.openai import transport_for
from switchboard.providers.reasoning import reasoning_extra, thinking_config
from switchboard.providers.status import map_status

DEFAULT_BASE = "https://api.anthropic.com"
DEFAULT_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096


def image_block(url: str) -> dict[str, Any]:
    """An OpenAI `image_url` as an Anthropic image: data: URLs inline, http(s) by reference."""
    if url.startswith("data:"):
        header, comma, data = url[5:].partition(",")
        media_type, _, encoding = header.partition(";")
        if not comma or encoding != "base64":
            raise InvalidRequest("image data: URLs must be base64-encoded", param="messages")
        return {
            "type": "image",
            "source": {"type": "base64", "media_type": media_type, "data": data},
        }
    if url.startswith(("http://", "https://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise InvalidRequest("image_url must be an http(s) or data: URL", param="messages")


def part_block(part: Mapping[str, Any]) -> dict[str, Any] | None:
    """One OpenAI content part as an Anthropic block; None for an empty text part."""
    kind = part.get("type")
    if kind == "text":
        if not part.get("text"):
            return None  # Anthropic rejects empty text blocks
        block: dict[str, Any] = {"type": "text", "text": part["text"]}
    elif kind == "image_url":
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, Mapping) else image
        block = image_block(str(url or ""))
    else:
        raise UnsupportedOperation(
            f"content part type {kind!r} is not supported by Anthropic deployments",
            param="messages",
        )
    if "cache_control" in part:  # prompt-caching breakpoints pass through as Anthropic spells them
        block["cache_control"] = part["cache_control"]
    return block


def content_blocks(content: str | list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    return [b for b in map(part_block, content) if b is not None]


def tool_use_block(call: Mapping[str, Any]) -> dict[str, Any]:
    """An OpenAI assistant tool call; its JSON-string arguments become the `input` object."""
    fn = call.get("function") or {}
    try:
        arguments = orjson.loads(fn.get("arguments") or "{}")
    except orjson.JSONDecodeError:
        arguments = None
    if not isinstance(arguments, dict):
        raise InvalidRequest("tool call arguments must be a JSON object", param="messages")
    return {"type": "tool_use", "id": call.get("id"), "name": fn.get("name"), "input": arguments}


def message_blocks(message: Message) -> list[dict[str, Any]]:
    if message.role == "tool":
        if not message.tool_call_id:
            raise InvalidRequest("tool messages need a tool_call_id", param="messages")
        content = message.content
        result = content if isinstance(content, str) else content_blocks(content)
        return [{"type": "tool_result", "tool_use_id": message.tool_call_id, "content": result}]
    blocks = content_blocks(message.content)
    blocks.extend(tool_use_block(call) for call in message.tool_calls or ())
    return blocks


def translate_messages(messages: list[Message]) -> tuple[str | None, list[dict[str, Any]]]:
    """The top-level `system` text and the turns, merged so that user and assistant alternate.

    Tool results travel in user turns; within a merged user turn they go first, as Anthropic
    wants them right after the assistant turn that called the tools.
    """
    system: list[str] = []
    turns: list[dict[str, Any]] = []
    for message in messages:
        if message.role in ("system", "developer"):
            if text := message.text():
                system.append(text)
            continue
        blocks = message_blocks(message)
        if not blocks:
            continue
        role = "assistant" if message.role == "assistant" else "user"
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    for turn in turns:
        if turn["role"] == "user":
            turn["content"].sort(key=lambda b: b["type"] != "tool_result")
    return ("\n\n".join(system) or None), turns


def tool_spec(tool: Mapping[str, Any]) -> dict[str, Any]:
    if tool.get("type", "function") != "function":
        raise UnsupportedOperation(
            f"tool type {tool.get('type')!r} is not supported by Anthropic deployments",
            param="tools",
        )
    fn = tool.get("function") or {}
    spec: dict[str, Any] = {"name": fn.get("name")}
    if fn.get("description"):
        spec["description"] = fn["description"]
    spec["input_schema"] = fn.get("parameters") or {"type": "object", "properties": {}}
    return spec


def tool_choice(choice: object, parallel: object) -> dict[str, Any] | None:
    """OpenAI's tool_choice (and parallel_tool_calls=false) as Anthropic's tool_choice."""
    out: dict[str, Any] | None
    if choice is None:
        out = {"type": "auto"} if parallel is False else None
    elif choice in ("auto", "required", "none"):
        out = {"type": {"auto": "auto", "required": "any", "none": "none"}[str(choice)]}
    elif isinstance(choice, Mapping) and isinstance(choice.get("function"), Mapping):
        out = {"type": "tool", "name": choice["function"].get("name")}
    else:
        raise InvalidRequest("tool_choice is not one Anthropic can express", param="tool_choice")
    if out is not None and parallel is False and out["type"] != "none":
        out["disable_parallel_tool_use"] = True
    return out


class AnthropicAdapter:
    """Translation for Anthropic's Messages wire format; Anthropic serves no embeddings."""

    messages_path = "/v1/messages"

    def __init__(self, deployment: DeploymentConfig) -> None:
        self.deployment = deployment
        self._secret = deployment.api_key.get_secret_value() if deployment.api_key else ""
        options = deployment.options
        self._max_tokens = int(options.get("default_max_tokens", DEFAULT_MAX_TOKENS))
        self._headers = {
            "content-type": "application/json",
            "anthropic-version": str(options.get("anthropic_version", DEFAULT_VERSION)),
        }
        if self._secret:
            self._headers["x-api-key"] = self._secret

    def request_body(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        system, turns = translate_messages(request.messages)
        max_tokens = request.token_limit() or self._max_tokens
        body: dict[str, Any] = {
            "model": self.deployment.model,
            "max_tokens": max_tokens,
            "messages": turns,
        }
        if system is not None:
            body["system"] = system
        if (thinking := thinking_config(request.params, max_tokens)) is not None:
            body["thinking"] = thinking
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.top_p is not None:
            body["top_p"] = request.top_p
        if request.stop:
            body["stop_sequences"] = request.stop
        if isinstance(request.params.get("user"), str):
            body["metadata"] = {"user_id": request.params["user"]}
        if tools := request.params.get("tools"):
            body["tools"] = [tool_spec(t) for t in tools]
            choice = tool_choice(
                request.params.get("tool_choice"), request.params.get("parallel_tool_calls")
            )
            if choice is not None:
                body["tool_choice"] = choice
        if stream:
            body["stream"] = True
        return body

    def chat_request(self, request: ChatRequest, *, stream: bool) -> UpstreamRequest:
        body = self.request_body(request, stream=stream)
        return UpstreamRequest(self.messages_path, orjson.dumps(body), self._headers)

    def parse_chat(self, body: bytes, request: ChatRequest) -> ChatResponse:
        data = orjson.loads(body)
        texts: list[str] = []
        calls: list[dict[str, Any]] = []
        thoughts: list[str] = []
        thinking_blocks: list[dict[str, Any]] = []
        for block in data.get("content") or ():
            if block.get("type") == "text":
                texts.append(block.get("text") or "")
            elif block.get("type") in ("thinking", "redacted_thinking"):
                thoughts.append(block.get("thinking") or "")
                thinking_blocks.append(block)
            elif block.get("type") == "tool_use":
                arguments = orjson.dumps(block.get("input") or {}).decode()
                calls.append(
                    {
                        "id": block.get("id"),
                        "type": "function",
                        "function": {"name": block.get("name"), "arguments": arguments},
                    }
                )
        text = "".join(texts)
        choice = Choice(
            index=0,
            content=text if text or not calls else None,
            finish_reason=finish_reason(data.get("stop_reason")),
            tool_calls=calls or None,
            message_extra=reasoning_extra(thoughts, thinking_blocks),
        )
        return ChatResponse(
            id=str(data.get("id") or ""),
            created=int(time.time()),
            model=request.model,
            choices=[choice],
            usage=parse_usage(data.get("usage")),
        )

    def stream_parser(self, request: ChatRequest) -> AnthropicStreamParser:
        return AnthropicStreamParser(request.model, self.error)

    def embed_request(self, request: EmbeddingRequest) -> UpstreamRequest:
        raise UnsupportedOperation(
            f"deployment {self.deployment.id} is Anthropic, which has no embeddings API",
            param="model",
        )

    def parse_embeddings(self, body: bytes, request: EmbeddingRequest) -> EmbeddingResponse:
        raise UnsupportedOperation("Anthropic has no embeddings API", param="model")

    def error(self, status: int, body: bytes, headers: dict[str, str]) -> ProviderError:
        """Map `{"type": "error", "error": {"type", "message"}}` bodies; the key is never echoed."""
        message = body.decode("utf-8", "replace")
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            payload = None
        if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
            err = payload["error"]
            message = f"{err.get('type', 'error')}: {err.get('message', '')}"
        return map_status(
            status, message, headers, label=self.deployment.id, secrets=(self._secret,)
        )


def build_anthropic(deployment: DeploymentConfig, settings: Settings) -> HttpProvider:
    return HttpProvider(AnthropicAdapter(deployment), transport_for(deployment, DEFAULT_BASE))
