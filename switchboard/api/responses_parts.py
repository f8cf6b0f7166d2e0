"""Responses output items (message, function call, reasoning) and a message's content parts
(text with its annotations and logprobs, refusal), and the response's service tier, from a chat
completion's fields.

Chat nests an annotation's fields under its type (`{"type": "url_citation", "url_citation":
{...}}`); a Responses `output_text` part carries them flat (`{"type": "url_citation", "url":
...}`). An annotation of any other shape passes as it came.
"""

from __future__ import annotations

from typing import Any


def text_part(
    text: str, notes: list[Any] | None = None, logprobs: list[Any] | None = None
) -> dict[str, Any]:
    return {
        "type": "output_text",
        "text": text,
        "annotations": notes or [],
        "logprobs": logprobs or [],
    }


def text_logprobs(choice_extra: dict[str, Any] | None) -> list[Any]:
    """A chat choice's (or chunk choice's) `logprobs.content`: the Responses text logprobs have
    the same entries (token, logprob, bytes, top_logprobs)."""
    logprobs = (choice_extra or {}).get("logprobs")
    content = logprobs.get("content") if isinstance(logprobs, dict) else None
    return list(content) if isinstance(content, list) else []


def refusal_part(refusal: str) -> dict[str, Any]:
    return {"type": "refusal", "refusal": refusal}


def flat_annotation(chat: Any) -> Any:
    if not isinstance(chat, dict):
        return chat
    kind = chat.get("type")
    nested = chat.get(kind) if isinstance(kind, str) else None
    if not isinstance(nested, dict):
        return chat
    rest = {k: v for k, v in chat.items() if k not in ("type", kind)}
    return {"type": kind, **nested, **rest}


def text_annotations(extra: dict[str, Any] | None) -> list[Any]:
    """The annotations of a chat message or delta (its `message_extra` / `delta_extra`)."""
    found = (extra or {}).get("annotations")
    return [flat_annotation(a) for a in found] if isinstance(found, list) else []


def service_tier(extra: dict[str, Any] | None) -> dict[str, Any]:
    """`{"service_tier": ...}` when the upstream reported the tier that served it, else `{}`."""
    tier = (extra or {}).get("service_tier")
    return {"service_tier": tier} if isinstance(tier, str) else {}


def message_item(
    item_id: str,
    text: str | None,
    status: str = "completed",
    refusal: str | None = None,
    notes: list[Any] | None = None,
    logprobs: list[Any] | None = None,
) -> dict[str, Any]:
    content = [] if text is None else [text_part(text, notes, logprobs)]
    if refusal is not None:
        content.append(refusal_part(refusal))
    return {
        "type": "message",
        "id": item_id,
        "status": status,
        "role": "assistant",
        "content": content,
    }


def call_item(
    item_id: str, call: dict[str, Any], arguments: str, status: str = "completed"
) -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": item_id,
        "call_id": call.get("id") or "",
        "name": (call.get("function") or {}).get("name") or "",
        "arguments": arguments,
        "status": status,
    }


def reasoning_item(item_id: str, text: str, status: str = "completed") -> dict[str, Any]:
    """An upstream's `reasoning_content` as a reasoning item (its text, no summary)."""
    content = [{"type": "reasoning_text", "text": text}]
    return {"type": "reasoning", "id": item_id, "summary": [], "content": content, "status": status}
