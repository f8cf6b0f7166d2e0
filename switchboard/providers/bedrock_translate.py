"""OpenAI-shaped chat requests as Bedrock Converse arguments, and Converse replies back.

Works on the Python values aiobotocore takes and returns (botocore serialises and signs them):
image bytes are `bytes`, tool inputs are dicts. The streamed side lives in bedrock_stream.py.
"""

from __future__ import annotations

import base64
import binascii
import time
import uuid
from collections.abc import Mapping
from typing import Any

import orjson

from switchboard.catalogue import DeploymentConfig
from switchboard.domain import ChatRequest, ChatResponse, Choice, Message, Usage
from switchboard.errors import InvalidRequest, UnsupportedOperation
from switchboard.providers.reasoning import reasoning_extra, thinking_config

FINISH_REASONS: Mapping[str, str] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "content_filtered": "content_filter",
    "guardrail_intervened": "content_filter",
}

IMAGE_FORMATS: Mapping[str, str] = {
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/jpg": "jpeg",
    "image/gif": "gif",
    "image/webp": "webp",
}

DEFAULT_THINKING_MAX_TOKENS = 8192
"""maxTokens when thinking is asked for and the client set no limit (Converse needs one)."""

_TOOL_CHOICES: Mapping[str, dict[str, Any]] = {"auto": {"auto": {}}, "required": {"any": {}}}


def finish_reason(stop_reason: str | None) -> str | None:
    if stop_reason is None:
        return None
    return FINISH_REASONS.get(stop_reason, "stop")


def parse_usage(data: Mapping[str, Any] | None) -> Usage | None:
    """Converse usage as a Usage whose prompt_tokens include the cached prompt tokens.

    Converse's `inputTokens` counts only the uncached part of the prompt, while OpenAI's
    `prompt_tokens` counts all of it; cache reads and writes are added so that counts compare
    across providers, and kept apart in `cached_tokens` / `cache_write_tokens` for costing.
    """
    if not data:
        return None
    read = int(data.get("cacheReadInputTokens") or 0)
    written = int(data.get("cacheWriteInputTokens") or 0)
    return Usage(
        prompt_tokens=int(data.get("inputTokens") or 0) + read + written,
        completion_tokens=int(data.get("outputTokens") or 0),
        cached_tokens=read,
        cache_write_tokens=written,
    )


def image_block(url: str) -> dict[str, Any]:
    """An OpenAI `image_url` as a Converse image: base64 data: URLs inline, s3:// by location."""
    if url.startswith("s3://"):
        ext = url.rsplit(".", 1)[-1].lower()
        fmt = IMAGE_FORMATS.get(f"image/{ext}")
        if fmt is None:
            raise InvalidRequest("s3:// image URLs must end in .png/.jpeg/.gif/.webp")
        return {"image": {"format": fmt, "source": {"s3Location": {"uri": url}}}}
    if not url.startswith("data:"):
        raise UnsupportedOperation(
            "Bedrock deployments take images as base64 data: URLs or s3:// URLs", param="messages"
        )
    header, comma, data = url[5:].partition(",")
    media_type, _, encoding = header.partition(";")
    fmt = IMAGE_FORMATS.get(media_type.lower())
    if not comma or encoding != "base64" or fmt is None:
        raise InvalidRequest(
            "image data: URLs must be base64 png, jpeg, gif or webp", param="messages"
        )
    try:
        raw = base64.b64decode(data, validate=True)
    except binascii.Error:
        raise InvalidRequest("image data: URL is not valid base64", param="messages") from None
    return {"image": {"format": fmt, "source": {"bytes": raw}}}


def part_block(part: Mapping[str, Any]) -> dict[str, Any] | None:
    """One OpenAI content part as a Converse content block; None for an empty text part."""
    kind = part.get("type")
    if kind == "text":
        return {"text": part["text"]} if part.get("text") else None
    if kind == "image_url":
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, Mapping) else image
        return image_block(str(url or ""))
    raise UnsupportedOperation(
        f"content part type {kind!r} is not supported by Bedrock deployments", param="messages"
    )


def content_blocks(content: str | list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"text": content}] if content else []
    return [b for b in map(part_block, content) if b is not None]


def tool_use_block(call: Mapping[str, Any]) -> dict[str, Any]:
    """An OpenAI assistant tool call; its JSON-string arguments become the `input` document."""
    fn = call.get("function") or {}
    try:
        arguments = orjson.loads(fn.get("arguments") or "{}")
    except orjson.JSONDecodeError:
        arguments = None
    if not isinstance(arguments, dict):
        raise InvalidRequest("tool call arguments must be a JSON object", param="messages")
    return {"toolUse": {"toolUseId": call.get("id"), "name": fn.get("name"), "input": arguments}}


def message_blocks(message: Message) -> list[dict[str, Any]]:
    if message.role == "tool":
        if not message.tool_call_id:
            raise InvalidRequest("tool messages need a tool_call_id", param="messages")
        result = {"toolUseId": message.tool_call_id, "content": content_blocks(message.content)}
        return [{"toolResult": result}]
    blocks = content_blocks(message.content)
    blocks.extend(tool_use_block(call) for call in message.tool_calls or ())
    return blocks


def translate_messages(
    messages: list[Message],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The `system` blocks and the turns, merged so that user and assistant alternate.

    Tool results travel in user turns; within a merged user turn they go first, right after the
    assistant turn that called the tools.
    """
    system: list[dict[str, Any]] = []
    turns: list[dict[str, Any]] = []
    for message in messages:
        if message.role in ("system", "developer"):
            if text := message.text():
                system.append({"text": text})
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
            turn["content"].sort(key=lambda b: "toolResult" not in b)
    return system, turns


def tool_spec(tool: Mapping[str, Any]) -> dict[str, Any]:
    if tool.get("type", "function") != "function":
        raise UnsupportedOperation(
            f"tool type {tool.get('type')!r} is not supported by Bedrock deployments",
            param="tools",
        )
    fn = tool.get("function") or {}
    spec: dict[str, Any] = {"name": fn.get("name")}
    if fn.get("description"):
        spec["description"] = fn["description"]
    schema = fn.get("parameters") or {"type": "object", "properties": {}}
    spec["inputSchema"] = {"json": schema}
    return {"toolSpec": spec}


def tool_config(params: Mapping[str, Any], turns: list[dict[str, Any]]) -> dict[str, Any] | None:
    """OpenAI `tools` / `tool_choice` as Converse's toolConfig.

    Converse has no "none" choice: the tools are left out, unless the conversation already holds
    tool blocks (Converse then requires toolConfig), in which case the model chooses.
    """
    tools = params.get("tools")
    if not tools:
        return None
    choice = params.get("tool_choice")
    if choice == "none":
        if not any("toolUse" in b or "toolResult" in b for t in turns for b in t["content"]):
            return None
        choice = None
    config: dict[str, Any] = {"tools": [tool_spec(t) for t in tools]}
    if isinstance(choice, str) and choice in _TOOL_CHOICES:
        config["toolChoice"] = _TOOL_CHOICES[choice]
    elif isinstance(choice, Mapping) and isinstance(choice.get("function"), Mapping):
        config["toolChoice"] = {"tool": {"name": choice["function"].get("name")}}
    elif choice is not None:
        raise InvalidRequest("tool_choice is not one Bedrock can express", param="tool_choice")
    return config


def converse_arguments(request: ChatRequest, deployment: DeploymentConfig) -> dict[str, Any]:
    """Keyword arguments for `converse` / `converse_stream` (the same for both)."""
    system, turns = translate_messages(request.messages)
    args: dict[str, Any] = {"modelId": deployment.model, "messages": turns}
    if system:
        args["system"] = system
    inference: dict[str, Any] = {}
    if (limit := request.token_limit()) is not None:
        inference["maxTokens"] = limit
    if request.temperature is not None:
        inference["temperature"] = request.temperature
    if request.top_p is not None:
        inference["topP"] = request.top_p
    if request.stop:
        inference["stopSequences"] = request.stop
    if inference:
        args["inferenceConfig"] = inference
    if (tools := tool_config(request.params, turns)) is not None:
        args["toolConfig"] = tools
    fields: dict[str, Any] = {}
    extra = deployment.options.get("additional_model_request_fields")
    if isinstance(extra, Mapping):
        fields.update(extra)
    cap = inference.get("maxTokens") or int(
        deployment.options.get("default_max_tokens", DEFAULT_THINKING_MAX_TOKENS)
    )
    if (thinking := thinking_config(request.params, cap)) is not None:
        fields["thinking"] = thinking  # Claude on Bedrock takes Anthropic's field here
        inference.setdefault("maxTokens", cap)
        args["inferenceConfig"] = inference
    if fields:
        args["additionalModelRequestFields"] = fields
    return args


def response_id(response: Mapping[str, Any]) -> str:
    """`chatcmpl-` and the AWS request id, which support can look up; a uuid when absent."""
    request_id = (response.get("ResponseMetadata") or {}).get("RequestId")
    return f"chatcmpl-{request_id or uuid.uuid4().hex}"


def tool_call(block: Mapping[str, Any]) -> dict[str, Any]:
    arguments = orjson.dumps(block.get("input") or {}).decode()
    return {
        "id": block.get("toolUseId"),
        "type": "function",
        "function": {"name": block.get("name"), "arguments": arguments},
    }


def thinking_block(reasoning: Mapping[str, Any]) -> dict[str, Any]:
    """A Converse `reasoningContent` as the Anthropic-shaped block `thinking_blocks` holds."""
    if "redactedContent" in reasoning:
        data = reasoning["redactedContent"]
        if isinstance(data, bytes):
            data = base64.b64encode(data).decode("ascii")
        return {"type": "redacted_thinking", "data": data}
    text = reasoning.get("reasoningText") or {}
    block = {"type": "thinking", "thinking": text.get("text") or ""}
    if text.get("signature"):
        block["signature"] = text["signature"]
    return block


def parse_converse(response: Mapping[str, Any], model: str) -> ChatResponse:
    """A parsed Converse reply as one OpenAI-shaped choice, reasoning in `reasoning_content`."""
    message = (response.get("output") or {}).get("message") or {}
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    blocks: list[dict[str, Any]] = []
    for block in message.get("content") or ():
        if "text" in block:
            texts.append(block["text"] or "")
        elif "toolUse" in block:
            calls.append(tool_call(block["toolUse"]))
        elif "reasoningContent" in block:
            blocks.append(thinking_block(block["reasoningContent"]))
    text = "".join(texts)
    choice = Choice(
        index=0,
        content=text if text or not calls else None,
        finish_reason=finish_reason(response.get("stopReason")),
        tool_calls=calls or None,
        message_extra=reasoning_extra([b.get("thinking", "") for b in blocks], blocks),
    )
    return ChatResponse(
        id=response_id(response),
        created=int(time.time()),
        model=model,
        choices=[choice],
        usage=parse_usage(response.get("usage")),
    )
