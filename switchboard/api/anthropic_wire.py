"""Anthropic Messages request bodies, validated and translated into a domain ChatRequest.

The translation is the inverse of providers/anthropic.py: system blocks become a system
message, `tool_use` blocks assistant tool calls, `tool_result` blocks tool messages (placed
first, right after the assistant turn that called them), tools and tool_choice their OpenAI
spelling. Server tools and content a chat completion cannot carry are refused with a 400.
`thinking` and `thinking` blocks in the history are dropped: no chat completion takes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, field_validator

from switchboard.api.schemas import MAX_TOKENS, Number, bounded_items
from switchboard.domain import ChatRequest, Message
from switchboard.errors import InvalidRequest, UnsupportedOperation

_SKIPPED_BLOCKS = {"thinking", "redacted_thinking"}
_EFFORT = {"xhigh": "high", "max": "high"}  # OpenAI's scale ends at high


class AnthropicMessageIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["user", "assistant"]
    content: str | list[dict[str, Any]]

    @field_validator("content")
    @classmethod
    def _blocks_have_type(cls, value: Any) -> Any:
        if isinstance(value, list):
            for block in value:
                if not isinstance(block.get("type"), str):
                    raise ValueError("each content block needs a string `type`")
        return value


class CountTokensIn(BaseModel):
    """The body of `count_tokens`: a Messages body without `max_tokens`."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1, max_length=256)
    messages: list[AnthropicMessageIn] = Field(min_length=1)
    system: str | list[dict[str, Any]] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: dict[str, Any] | None = None

    @field_validator("messages", mode="before")
    @classmethod
    def _bounded(cls, value: Any) -> Any:
        return bounded_items(value, "messages", "content blocks")

    def to_domain(self) -> ChatRequest:
        messages = [system_message(self.system)] if self.system else []
        for i, m in enumerate(self.messages):
            messages.extend(turn_messages(i, m.role, m.content))
        params: dict[str, Any] = {}
        if self.tools:
            params["tools"] = [function_tool(t) for t in self.tools]
        if self.tool_choice:
            params.update(tool_choice_params(self.tool_choice))
        return ChatRequest(model=self.model, messages=messages, params=params)


class MessagesIn(CountTokensIn):
    """Anthropic's Messages body; fields with no chat-completion equivalent are ignored."""

    max_tokens: StrictInt = Field(ge=1, le=MAX_TOKENS)
    stream: StrictBool = False
    stop_sequences: list[str] | None = None
    temperature: Number | None = Field(None, ge=0, le=1)
    top_p: Number | None = Field(None, ge=0, le=1)
    top_k: StrictInt | None = Field(None, ge=0)
    metadata: dict[str, Any] | None = None
    output_config: dict[str, Any] | None = None

    def to_domain(self) -> ChatRequest:
        chat = super().to_domain()
        chat.stream = chat.include_usage = self.stream  # usage closes Anthropic's stream
        chat.max_tokens = self.max_tokens
        chat.temperature = self.temperature
        chat.top_p = self.top_p
        chat.stop = self.stop_sequences or None
        if self.top_k is not None:
            chat.params["top_k"] = self.top_k
        user = (self.metadata or {}).get("user_id")
        if isinstance(user, str):
            chat.params["user"] = user
        chat.params.update(output_params(self.output_config or {}))
        return chat


def output_params(config: Mapping[str, Any]) -> dict[str, Any]:
    """`output_config` as OpenAI's `response_format` (a JSON schema) and `reasoning_effort`."""
    out: dict[str, Any] = {}
    fmt = config.get("format")
    if isinstance(fmt, Mapping) and fmt.get("type") == "json_schema":
        schema = {"name": "output", "schema": fmt.get("schema") or {}}
        out["response_format"] = {"type": "json_schema", "json_schema": schema}
    elif fmt is not None:
        raise InvalidRequest("output_config.format must be a json_schema", param="output_config")
    effort = config.get("effort")
    if isinstance(effort, str):
        out["reasoning_effort"] = _EFFORT.get(effort, effort)
    return out


def system_message(system: str | list[dict[str, Any]]) -> Message:
    """Plain text stays a string; blocks stay parts, so `cache_control` reaches Anthropic."""
    if isinstance(system, str):
        return Message("system", system)
    parts = [text_part(b, "system") for b in system]
    if not any("cache_control" in p for p in parts):
        return Message("system", "".join(p["text"] for p in parts))
    return Message("system", parts)


def text_part(block: Mapping[str, Any], where: str) -> dict[str, Any]:
    if block.get("type") != "text" or not isinstance(block.get("text"), str):
        raise InvalidRequest(f"{where} blocks must be text blocks", param=where)
    part: dict[str, Any] = {"type": "text", "text": block["text"]}
    if "cache_control" in block:
        part["cache_control"] = block["cache_control"]
    return part


def image_part(block: Mapping[str, Any], where: str) -> dict[str, Any]:
    """An Anthropic image (inline base64 or by URL) as an OpenAI `image_url` part."""
    source = block.get("source") or {}
    if source.get("type") == "base64":
        url = f"data:{source.get('media_type')};base64,{source.get('data')}"
    elif source.get("type") == "url":
        url = str(source.get("url"))
    else:
        raise UnsupportedOperation(
            f"image source type {source.get('type')!r} is not supported", param=where
        )
    return {"type": "image_url", "image_url": {"url": url}}


def user_part(block: Mapping[str, Any], where: str) -> dict[str, Any]:
    kind = block.get("type")
    if kind == "text":
        return text_part(block, where)
    if kind == "image":
        return image_part(block, where)
    raise UnsupportedOperation(f"content block type {kind!r} is not supported", param=where)


def tool_result_messages(
    block: Mapping[str, Any], where: str
) -> tuple[Message, list[dict[str, Any]]]:
    """A tool message with the result's text, and the result's images for the user turn."""
    if not isinstance(block.get("tool_use_id"), str):
        raise InvalidRequest("tool_result blocks need a `tool_use_id`", param=where)
    content = block.get("content")
    if content is None or isinstance(content, str):
        return Message("tool", content or "", tool_call_id=block["tool_use_id"]), []
    if not isinstance(content, list):
        raise InvalidRequest("tool_result content must be a string or blocks", param=where)
    parts = [user_part(b, where) for b in content]
    text = "".join(p["text"] for p in parts if p["type"] == "text")
    images = [p for p in parts if p["type"] != "text"]
    return Message("tool", text, tool_call_id=block["tool_use_id"]), images


def tool_call(block: Mapping[str, Any]) -> dict[str, Any]:
    arguments = orjson.dumps(block.get("input") or {}).decode()
    return {
        "id": block.get("id"),
        "type": "function",
        "function": {"name": block.get("name"), "arguments": arguments},
    }


def turn_messages(
    index: int, role: Literal["user", "assistant"], content: str | list[dict[str, Any]]
) -> list[Message]:
    """One Anthropic turn as chat messages: a user turn may become tool messages and a user
    message; an assistant turn becomes one message with its text and tool calls."""
    if isinstance(content, str):
        return [Message(role, content)]
    where = f"messages.{index}.content"
    if role == "assistant":
        texts = [b.get("text") or "" for b in content if b["type"] == "text"]
        calls = [tool_call(b) for b in content if b["type"] == "tool_use"]
        other = {b["type"] for b in content} - {"text", "tool_use", *_SKIPPED_BLOCKS}
        if other:
            raise UnsupportedOperation(
                f"assistant content block type {sorted(other)[0]!r} is not supported", param=where
            )
        if not texts and not calls:
            return []
        return [Message("assistant", "".join(texts) if texts else None, tool_calls=calls or None)]
    tools: list[Message] = []
    parts: list[dict[str, Any]] = []
    for block in content:
        if block["type"] == "tool_result":
            message, images = tool_result_messages(block, where)
            tools.append(message)
            parts.extend(images)
        else:
            parts.append(user_part(block, where))
    return tools + ([Message("user", parts)] if parts else [])


def function_tool(tool: Mapping[str, Any]) -> dict[str, Any]:
    """A client tool as an OpenAI function; Anthropic's server tools have no equivalent."""
    kind = tool.get("type")
    if kind not in (None, "custom"):
        raise UnsupportedOperation(
            f"tool type {kind!r} is an Anthropic server tool; only client tools are supported",
            param="tools",
        )
    if not isinstance(tool.get("name"), str):
        raise InvalidRequest("each tool needs a `name`", param="tools")
    fn: dict[str, Any] = {
        "name": tool["name"],
        "parameters": tool.get("input_schema") or {"type": "object", "properties": {}},
    }
    if tool.get("description"):
        fn["description"] = tool["description"]
    return {"type": "function", "function": fn}


def tool_choice_params(choice: Mapping[str, Any]) -> dict[str, Any]:
    """Anthropic's tool_choice as OpenAI's `tool_choice` and `parallel_tool_calls`."""
    kind = choice.get("type")
    out: dict[str, Any]
    if kind in ("auto", "any", "none"):
        out = {"tool_choice": {"auto": "auto", "any": "required", "none": "none"}[str(kind)]}
    elif kind == "tool" and isinstance(choice.get("name"), str):
        out = {"tool_choice": {"type": "function", "function": {"name": choice["name"]}}}
    else:
        raise InvalidRequest(f"unknown tool_choice type {kind!r}", param="tool_choice")
    if choice.get("disable_parallel_tool_use") is True:
        out["parallel_tool_calls"] = False
    return out
