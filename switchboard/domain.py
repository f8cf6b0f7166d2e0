"""Typed objects that travel the pipeline: requests, responses, stream chunks and usage.

The HTTP edge validates into these (api/schemas.py); providers translate to and from them;
api/render.py turns them back into OpenAI wire format.
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

    def token_limit(self) -> int | None:
        """The completion token cap, whichever of the two OpenAI fields the client used."""
        if self.max_tokens is not None:
            return self.max_tokens
        value = self.params.get("max_completion_tokens")
        return value if isinstance(value, int) else None


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

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(slots=True)
class Choice:
    index: int
    content: str | None
    finish_reason: str | None
    tool_calls: list[dict[str, Any]] | None = None
    role: str = "assistant"


@dataclass(slots=True)
class ChatResponse:
    id: str
    created: int
    model: str
    choices: list[Choice]
    usage: Usage | None = None
    system_fingerprint: str | None = None


@dataclass(slots=True)
class ChunkChoice:
    index: int = 0
    content: str | None = None
    role: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    finish_reason: str | None = None


@dataclass(slots=True)
class ChatChunk:
    """One streamed delta; a chunk with no choices and a `usage` closes a stream with usage."""

    id: str
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None


ChunkStream = AsyncIterator[ChatChunk]


@dataclass(slots=True)
class EmbeddingResponse:
    model: str
    vectors: list[list[float]]
    usage: Usage


Reply = ChatResponse | ChunkStream | EmbeddingResponse
