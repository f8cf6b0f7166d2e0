"""Response shapes for the OpenAPI document: documentation only.

Replies are rendered by api/render.py and friends; every model here is open (extra fields allowed),
since fields an upstream sends beyond these pass through (see domain.py).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Usage(_Open):
    prompt_tokens: int
    completion_tokens: int = 0
    total_tokens: int


class ChatChoice(_Open):
    index: int
    message: dict[str, Any]
    logprobs: dict[str, Any] | None = None
    finish_reason: str | None


class ChatCompletion(_Open):
    """The upstream's fields reach the client unchanged; `model` is the public name."""

    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[ChatChoice]
    usage: Usage | None


class ChatCompletionChunk(_Open):
    """One `data:` event of the stream, which ends with `data: [DONE]`."""

    id: str
    object: Literal["chat.completion.chunk"]
    created: int
    model: str
    choices: list[dict[str, Any]]
    usage: Usage | None = None


class TextChoice(_Open):
    index: int
    text: str
    logprobs: None = None
    finish_reason: str | None


class TextCompletion(_Open):
    """A legacy completion (streamed: one such object a `data:` event)."""

    id: str
    object: Literal["text_completion"]
    created: int
    model: str
    choices: list[TextChoice]
    usage: Usage | None = None


class Embedding(_Open):
    object: Literal["embedding"]
    index: int
    embedding: list[float] | str


class EmbeddingList(_Open):
    object: Literal["list"]
    data: list[Embedding]
    model: str
    usage: Usage


class Model(_Open):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str


class ModelList(_Open):
    object: Literal["list"]
    data: list[Model]


class SimpleChatReply(_Open):
    request_id: str
    conversation_id: str | None
    model: str
    finish_reason: str | None
    usage: Usage
    latency_ms: float
    message: str


class SimpleChatEvent(_Open):
    """`event: token` ({"content"}), then `event: done` (the reply without `message`) or
    `event: error` (the error envelope)."""

    content: str | None = None


class CreatedKey(_Open):
    key: str
    api_key: dict[str, Any]


class AnthropicMessage(_Open):
    id: str
    type: Literal["message"]
    role: Literal["assistant"]
    content: list[dict[str, Any]]
    model: str
    stop_reason: str | None
    usage: dict[str, Any]


class TokenCount(_Open):
    input_tokens: int


class ResponseObject(_Open):
    id: str
    object: Literal["response"]
    status: str
    model: str
    output: list[dict[str, Any]]


class DocumentObject(_Open):
    """A document and its ingestion: `status` queued → chunked → embedded → ready (or failed);
    on creation, `task_id` is the ingestion job to poll at /v1/tasks/{id} (null: in-process)."""

    id: str
    object: Literal["document"]
    title: str | None
    format: str
    status: str
    version: int
    chunks: int
    task_id: str | None = None


class DocumentList(_Open):
    object: Literal["list"]
    data: list[DocumentObject]
    has_more: bool


class DocumentDeleted(_Open):
    id: str
    object: Literal["document.deleted"]
    deleted: bool


class DocumentUpload(BaseModel):
    """The multipart form: the document in `file`; `id`, `title`, `format` optional."""

    file: bytes
    id: str | None = None
    title: str | None = None
    format: str | None = None

    model_config = ConfigDict(json_schema_extra={"properties": {"file": {"format": "binary"}}})


class RagSource(_Open):
    chunk_id: str
    document_id: str
    title: str | None
    page: int | None
    score: float


class RagAnswer(_Open):
    object: Literal["rag.answer"]
    answer: str
    sources: list[RagSource]
    citations: list[dict[str, Any]]
    model: str
    usage: Usage | None
    cost: float
    latency: float


class RagEvent(_Open):
    """Events in order: `status` {step: retrieving}, `sources` [RagSource], `status` {step:
    generating}, `token` {text} (many), `done` {usage, cost, latency, citations}; or `error`
    (the error envelope's `error`) in place of the rest."""

    step: str | None = None
    text: str | None = None


class ErrorDetail(_Open):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorEnvelope(_Open):
    error: ErrorDetail
