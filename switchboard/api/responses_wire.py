"""OpenAI Responses request bodies, validated and translated into a domain ChatRequest.

Input items become chat messages (`function_call` items assistant tool calls, their outputs
tool messages), `instructions` a system message, `text.format` the `response_format`. Built-in
tools (web search, file search, ...) and features that need OpenAI's own state (`conversation`,
`background`, prompt templates, item references) are refused with a 400 naming them; with
`skip`, what has no chat equivalent is left out instead (the body also travels whole, for a
deployment that passes the Responses API through: api/responses_native.py).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, field_validator

from switchboard.api.schemas import MAX_TOKENS, Number, bounded_items
from switchboard.domain import ChatRequest, Message
from switchboard.errors import InvalidRequest, UnsupportedOperation

_SKIPPED_ITEMS = {"reasoning"}
_PASSED = ("service_tier", "safety_identifier", "prompt_cache_key", "user")
_REFUSED = ("background", "conversation", "prompt")
LOGPROBS = "message.output_text.logprobs"  # the `include` that asks for the text's logprobs
_STATEFUL = ("background", "conversation")  # need the upstream's state: refused even natively


class ResponsesIn(BaseModel):
    """The Responses body; fields with no chat-completion equivalent are ignored."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1, max_length=256)
    input: str | list[dict[str, Any]]
    instructions: str | None = None
    max_output_tokens: StrictInt | None = Field(None, ge=1, le=MAX_TOKENS)
    temperature: Number | None = Field(None, ge=0, le=2)
    top_p: Number | None = Field(None, ge=0, le=1)
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: StrictBool | None = None
    stream: StrictBool = False
    store: StrictBool = True
    previous_response_id: str | None = Field(None, min_length=1, max_length=128)
    metadata: dict[str, str] | None = None
    text: dict[str, Any] | None = None
    reasoning: dict[str, Any] | None = None
    include: list[str] | None = None
    top_logprobs: StrictInt | None = Field(None, ge=0, le=20)
    user: str | None = None
    service_tier: str | None = None
    safety_identifier: str | None = None
    prompt_cache_key: str | None = None
    background: StrictBool | None = None
    conversation: str | dict[str, Any] | None = None
    prompt: dict[str, Any] | None = None

    @field_validator("input", mode="before")
    @classmethod
    def _bounded(cls, value: Any) -> Any:
        return bounded_items(value, "input items", "content parts")

    @field_validator("input")
    @classmethod
    def _items_typed(cls, value: Any) -> Any:
        if isinstance(value, list):
            for item in value:
                if not isinstance(item.get("type", "message"), str):
                    raise ValueError("each input item's `type` must be a string")
        return value

    def echo(self, response_id: str, model: str) -> dict[str, Any]:
        """The response object's fields that restate the request (its outcome aside)."""
        effort = (self.reasoning or {}).get("effort")
        return {
            "id": response_id,
            "object": "response",
            "created_at": int(time.time()),
            "model": model,
            "error": None,
            "instructions": self.instructions,
            "max_output_tokens": self.max_output_tokens,
            "metadata": self.metadata or {},
            "parallel_tool_calls": self.parallel_tool_calls is not False,
            "previous_response_id": self.previous_response_id,
            "reasoning": {"effort": effort, "summary": None},
            "store": self.store,
            "temperature": 1.0 if self.temperature is None else self.temperature,
            "text": {"format": (self.text or {}).get("format") or {"type": "text"}},
            "tool_choice": self.tool_choice or "auto",
            "tools": self.tools or [],
            "top_p": 1.0 if self.top_p is None else self.top_p,
            "truncation": "disabled",
            "user": self.user,
        }

    def input_messages(self, skip: bool = False) -> list[Message]:
        """This request's own input, without instructions or a previous response's history."""
        return input_messages(self.input, skip)

    def to_domain(self, history: list[Message], skip: bool = False) -> ChatRequest:
        """The chat request: instructions, then `history` (a previous response's), then input;
        with `skip`, what has no chat equivalent is left out instead of refused."""
        for name in _STATEFUL if skip else _REFUSED:
            if getattr(self, name) is not None:
                raise UnsupportedOperation(f"`{name}` is not supported", param=name)
        system = [Message("system", self.instructions)] if self.instructions else []
        params: dict[str, Any] = {k: getattr(self, k) for k in _PASSED if getattr(self, k)}
        if self.tools:
            tools = [t for t in self.tools if not skip or t.get("type") == "function"]
            if tools:
                params["tools"] = [function_tool(t) for t in tools]
        if self.tool_choice is not None:
            choice = skipped(chat_tool_choice, skip, self.tool_choice)
            if choice is not None:
                params["tool_choice"] = choice
        if self.parallel_tool_calls is not None:
            params["parallel_tool_calls"] = self.parallel_tool_calls
        if fmt := response_format((self.text or {}).get("format")):
            params["response_format"] = fmt
        if isinstance(effort := (self.reasoning or {}).get("effort"), str):
            params["reasoning_effort"] = effort
        if LOGPROBS in (self.include or ()):
            params["logprobs"] = True
            if self.top_logprobs is not None:
                params["top_logprobs"] = self.top_logprobs
        return ChatRequest(
            model=self.model,
            messages=[*system, *history, *self.input_messages(skip)],
            stream=self.stream,
            include_usage=self.stream,
            max_tokens=self.max_output_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            params=params,
        )


def content_part(part: Mapping[str, Any], where: str) -> dict[str, Any]:
    """One Responses content part as a chat content part."""
    kind = part.get("type")
    if kind in ("input_text", "output_text"):
        return {"type": "text", "text": str(part.get("text") or "")}
    if kind == "refusal":
        return {"type": "text", "text": str(part.get("refusal") or "")}
    if kind == "input_image" and isinstance(part.get("image_url"), str):
        image: dict[str, Any] = {"url": part["image_url"]}
        if isinstance(part.get("detail"), str):
            image["detail"] = part["detail"]
        return {"type": "image_url", "image_url": image}
    if kind == "input_file" and (part.get("file_data") or part.get("file_id")):
        keys = ("file_data", "file_id", "filename")
        return {"type": "file", "file": {k: part[k] for k in keys if part.get(k)}}
    raise UnsupportedOperation(f"content part type {kind!r} is not supported", param=where)


def skipped(translate: Any, skip: bool, *args: Any) -> Any:
    """`translate(*args)`, or None where it is unsupported and `skip` is on."""
    try:
        return translate(*args)
    except UnsupportedOperation:
        if skip:
            return None
        raise


def message_of(item: Mapping[str, Any], where: str, skip: bool = False) -> Message:
    role = item.get("role")
    if role not in ("user", "assistant", "system", "developer"):
        raise InvalidRequest(f"unknown role {role!r}", param=where)
    content = item.get("content")
    if isinstance(content, str):
        return Message(role, content)
    if not isinstance(content, list):
        raise InvalidRequest("content must be a string or a list of parts", param=where)
    translated = [skipped(content_part, skip, p, f"{where}.content") for p in content]
    parts = [p for p in translated if p is not None]
    if role == "user":
        return Message(role, parts)
    if any(p["type"] != "text" for p in parts):
        raise InvalidRequest(f"{role} content can only be text", param=where)
    return Message(role, "".join(p["text"] for p in parts))


def tool_output(output: object) -> str:
    if isinstance(output, list):
        return "".join(str(p.get("text") or "") for p in output if isinstance(p, Mapping))
    return output if isinstance(output, str) else ""


def input_messages(value: str | list[dict[str, Any]], skip: bool = False) -> list[Message]:
    if isinstance(value, str):
        return [Message("user", value)]
    out: list[Message] = []
    for i, item in enumerate(value):
        where = f"input.{i}"
        kind = item.get("type", "message")
        if kind == "message":
            out.append(message_of(item, where, skip))
        elif kind == "function_call":
            call = {
                "id": item.get("call_id"),
                "type": "function",
                "function": {"name": item.get("name"), "arguments": item.get("arguments") or ""},
            }
            last = out[-1] if out else None
            if last is not None and last.role == "assistant" and last.tool_calls is not None:
                last.tool_calls.append(call)  # parallel calls: one assistant turn
            elif last is not None and last.role == "assistant" and not last.tool_calls:
                last.tool_calls = [call]
            else:
                out.append(Message("assistant", None, tool_calls=[call]))
        elif kind == "function_call_output":
            call_id = item.get("call_id")
            if not isinstance(call_id, str):
                raise InvalidRequest("function_call_output needs a `call_id`", param=where)
            out.append(Message("tool", tool_output(item.get("output")), tool_call_id=call_id))
        elif kind not in _SKIPPED_ITEMS and not skip:
            raise UnsupportedOperation(f"input item type {kind!r} is not supported", param=where)
    return out


def function_tool(tool: Mapping[str, Any]) -> dict[str, Any]:
    if tool.get("type") != "function":
        raise UnsupportedOperation(
            f"tool type {tool.get('type')!r} is a built-in OpenAI tool; only function tools "
            "are supported",
            param="tools",
        )
    if not isinstance(tool.get("name"), str):
        raise InvalidRequest("each function tool needs a `name`", param="tools")
    keys = ("name", "description", "parameters", "strict")
    return {"type": "function", "function": {k: tool[k] for k in keys if tool.get(k) is not None}}


def chat_tool_choice(choice: str | Mapping[str, Any]) -> str | dict[str, Any]:
    if choice in ("auto", "none", "required"):
        return str(choice)
    if isinstance(choice, Mapping) and choice.get("type") == "function":
        return {"type": "function", "function": {"name": choice.get("name")}}
    raise UnsupportedOperation("tool_choice must be auto, none, required or a function")


def response_format(fmt: object) -> dict[str, Any] | None:
    """`text.format` as `response_format`; plain text needs none."""
    if fmt is None:
        return None
    kind = fmt.get("type") if isinstance(fmt, Mapping) else None
    if kind == "text":
        return None
    if kind == "json_object":
        return {"type": "json_object"}
    if kind == "json_schema" and isinstance(fmt, Mapping):
        keys = ("name", "description", "schema", "strict")
        return {"type": "json_schema", "json_schema": {k: fmt[k] for k in keys if k in fmt}}
    raise InvalidRequest("text.format must be text, json_object or json_schema", param="text")
