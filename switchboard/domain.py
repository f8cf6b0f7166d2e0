"""Typed objects that travel the pipeline: requests, responses, stream chunks and usage.

The HTTP edge validates into these (api/schemas.py); providers translate to and from them;
api/render.py turns them back into OpenAI wire format.

Fidelity: each response level (the response, a choice, its message or delta, usage) has an
`extra` dict of the upstream's fields that Switchboard does not interpret (`logprobs`,
`refusal`, `annotations`, `reasoning_content`, `service_tier`, token details ...), kept as the
upstream sent them in OpenAI wire shape; render.py writes them back beside the typed fields.
`None` when there are none, so a reply without extras costs no dict.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "developer", "user", "assistant", "tool"]


@dataclass(slots=True)
class Message:
    """One chat message; `content` is a string or a list of OpenAI content parts."""

    role: Role
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None

    def text(self) -> str:
        """The message's text, with non-text parts (images, audio) left out."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(p.get("text", "") for p in self.content if p.get("type") == "text")

    def to_openai(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.name is not None:
            out["name"] = self.name
        if self.tool_calls is not None:
            out["tool_calls"] = self.tool_calls
        if self.tool_call_id is not None:
            out["tool_call_id"] = self.tool_call_id
        return out


@dataclass(slots=True)
class NativeBody:
    """A request as the client wrote it for an API that some upstreams serve themselves (the
    Responses API): a deployment that speaks it gets `body` as is, the others get the chat
    translation, which had to leave out `untranslated` ((param, why), None if nothing)."""

    api: Literal["responses"]
    body: dict[str, Any]
    untranslated: tuple[str, str] | None = None


@dataclass(slots=True)
class ChatRequest:
    """A chat completion request after validation; `params` holds the other OpenAI fields."""

    model: str
    messages: list[Message]
    stream: bool = False
    include_usage: bool = False
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: list[str] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    native: NativeBody | None = None  # the client's own body, for a native deployment

    def token_limit(self) -> int | None:
        """The completion token cap, whichever of the two OpenAI fields the client used."""
        if self.max_tokens is not None:
            return self.max_tokens
        value = self.params.get("max_completion_tokens")
        return value if isinstance(value, int) else None

    def choice_count(self) -> int:
        """`n`: how many choices the reply holds (limits reserve for each of them)."""
        n = self.params.get("n")
        return n if isinstance(n, int) and n > 1 else 1


@dataclass(slots=True)
class EmbeddingRequest:
    model: str
    input: list[str] | list[list[int]]
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = None
    user: str | None = None


@dataclass(slots=True)
class Usage:
    """Token counts as the provider reported them (or as counted locally)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0  # prompt tokens read from the provider's prompt cache
    cache_write_tokens: int = 0  # prompt tokens written to the provider's cache (Anthropic)
    reasoning_tokens: int = 0
    extra: dict[str, Any] | None = None  # e.g. prompt_tokens_details as sent, in OpenAI shape

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def plus(self, other: Usage) -> Usage:
        """The usage of two calls together (n choices served by n calls)."""
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.cached_tokens + other.cached_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
            _sum_counts(self.extra, other.extra),
        )


def _sum_counts(a: dict[str, Any] | None, b: dict[str, Any] | None) -> dict[str, Any] | None:
    """Add integer leaves of two usage extras (token details); other values: the first's."""
    if not a or not b:
        return a or b
    out = dict(b)
    for key, value in a.items():
        other = out.get(key)
        if isinstance(value, dict) and isinstance(other, dict):
            out[key] = _sum_counts(value, other)
        elif type(value) is int and type(other) is int:
            out[key] = value + other
        else:
            out[key] = value
    return out


@dataclass(slots=True)
class Choice:
    index: int
    content: str | None
    finish_reason: str | None
    tool_calls: list[dict[str, Any]] | None = None
    role: str = "assistant"
    message_extra: dict[str, Any] | None = None  # refusal, annotations, reasoning_content ...
    extra: dict[str, Any] | None = None  # the choice's own: logprobs ...


@dataclass(slots=True)
class ChatResponse:
    id: str
    created: int
    model: str
    choices: list[Choice]
    usage: Usage | None = None
    extra: dict[str, Any] | None = None  # system_fingerprint, service_tier ...
    native: dict[str, Any] | None = None  # a native deployment's reply object, as it sent it


@dataclass(slots=True)
class ChunkChoice:
    index: int = 0
    content: str | None = None
    role: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    finish_reason: str | None = None
    delta_extra: dict[str, Any] | None = None  # reasoning_content, refusal, function_call ...
    extra: dict[str, Any] | None = None  # the choice's own: logprobs ...


@dataclass(slots=True)
class ChatChunk:
    """One streamed delta; a chunk with no choices and a `usage` closes a stream with usage."""

    id: str
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None
    extra: dict[str, Any] | None = None  # system_fingerprint, service_tier ...
    native: dict[str, Any] | None = None  # a native deployment's stream event, as it sent it


ChunkStream = AsyncIterator[ChatChunk]


@dataclass(slots=True)
class EmbeddingResponse:
    model: str
    vectors: list[list[float]]
    usage: Usage


Reply = ChatResponse | ChunkStream | EmbeddingResponse
