"""The content parts of a Responses message (text with its annotations, refusal), and the
response's service tier, from a chat completion's fields.

Chat nests an annotation's fields under its type (`{"type": "url_citation", "url_citation":
{...}}`); a Responses `output_text` part carries them flat (`{"type": "url_citation", "url":
...}`). An annotation of any other shape passes as it came.
"""

from __future__ import annotations

from typing import Any


def text_part(text: str, notes: list[Any] | None = None) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": notes or [], "logprobs": []}


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
