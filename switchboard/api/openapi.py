"""The OpenAPI document: FastAPI's own, completed with the operations it cannot see.

The hot OpenAI routes are plain Starlette routes, and every route reads its body itself
(api/body.py), so FastAPI knows neither their paths nor their bodies. The table below names,
for each, the request model it validates with and the response it renders; the response
models here are documentation only (fields beyond them pass through, see domain.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from switchboard.api.anthropic_wire import CountTokensIn, MessagesIn
from switchboard.api.batch_wire import (
    BatchIn,
    BatchList,
    BatchObject,
    FileContent,
    FileObject,
    FileUpload,
)
from switchboard.api.documents_routes import DocumentIn
from switchboard.api.jobs_wire import FeedbackAccepted, FeedbackIn, TaskIn, TaskList, TaskObject
from switchboard.api.openapi_models import (
    AnthropicMessage,
    ChatCompletion,
    CreatedKey,
    DocumentDeleted,
    DocumentList,
    DocumentObject,
    DocumentUpload,
    EmbeddingList,
    ErrorEnvelope,
    Model,
    ModelList,
    RagAnswer,
    RagEvent,
    ResponseObject,
    SimpleChatEvent,
    SimpleChatReply,
    TextCompletion,
    TokenCount,
)
from switchboard.api.rag_routes import RagIn
from switchboard.api.responses_wire import ResponsesIn
from switchboard.api.schemas import ChatCompletionIn, CompletionIn, EmbeddingsIn, SimpleChatIn
from switchboard.keys.spec import KeySpec


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    summary: str
    body: type[BaseModel] | None
    reply: type[BaseModel]
    stream: bool = False  # the reply can also be an event stream of `reply`-shaped events
    status: int = 200
    plain: bool = False  # a plain Starlette route, always mounted, unseen by FastAPI
    form: type[BaseModel] | None = None  # the body may also be multipart/form-data


def _openai(prefix: str) -> list[Operation]:
    alias = " (alias)" if not prefix else ""
    return [
        Operation("post", f"{prefix}/chat/completions", "Chat completion" + alias,
                  ChatCompletionIn, ChatCompletion, stream=True, plain=True),
        Operation("post", f"{prefix}/completions", "Legacy completion, translated to chat" + alias,
                  CompletionIn, TextCompletion, stream=True, plain=True),
        Operation("post", f"{prefix}/embeddings", "Embeddings" + alias,
                  EmbeddingsIn, EmbeddingList, plain=True),
        Operation("get", f"{prefix}/models", "Models this key may use" + alias, None, ModelList),
        Operation("get", f"{prefix}/models/{{model_id}}", "One model" + alias, None, Model),
    ]  # fmt: skip


OPERATIONS: tuple[Operation, ...] = (
    *_openai("/v1"),
    *_openai(""),
    Operation("post", "/v1/chat", "Simple chat: one message in", SimpleChatIn, SimpleChatReply),
    Operation("post", "/v1/chat/stream", "Simple chat, streamed", SimpleChatIn, SimpleChatEvent,
              stream=True),
    Operation("post", "/admin/keys", "Create an API key", KeySpec, CreatedKey, status=201),
    Operation("post", "/v1/messages", "Anthropic Messages, translated to chat", MessagesIn,
              AnthropicMessage, stream=True, plain=True),
    Operation("post", "/v1/messages/count_tokens", "Anthropic token count (estimate)",
              CountTokensIn, TokenCount, plain=True),
    Operation("post", "/v1/responses", "OpenAI Responses (translated or passed)", ResponsesIn,
              ResponseObject, stream=True, plain=True),
    Operation("post", "/v1/tasks", "Submit a background job", TaskIn, TaskObject, status=202),
    Operation("get", "/v1/tasks", "The key's jobs, newest first", None, TaskList),
    Operation("get", "/v1/tasks/{task_id}", "A job: status, progress, result", None, TaskObject),
    Operation("delete", "/v1/tasks/{task_id}", "Cancel a job", None, TaskObject),
    Operation("post", "/v1/feedback", "Feedback on a response (stored in the background)",
              FeedbackIn, FeedbackAccepted, status=202),
    Operation("post", "/v1/files", "Upload a batch input file (OpenAI Files API)", None,
              FileObject, form=FileUpload),
    Operation("get", "/v1/files/{file_id}", "A file's description", None, FileObject),
    Operation("get", "/v1/files/{file_id}/content", "A file's bytes (JSONL)", None, FileContent),
    Operation("post", "/v1/batches", "Start a batch (OpenAI Batch API)", BatchIn, BatchObject),
    Operation("get", "/v1/batches", "The key's batches, newest first", None, BatchList),
    Operation("get", "/v1/batches/{batch_id}", "A batch: status, counts, files", None,
              BatchObject),
    Operation("post", "/v1/batches/{batch_id}/cancel", "Cancel a batch", None, BatchObject),
    Operation("post", "/v1/documents", "Add or replace a document; ingestion runs as a job",
              DocumentIn, DocumentObject, status=202, plain=True, form=DocumentUpload),
    Operation("get", "/v1/documents", "The tenant's documents", None, DocumentList),
    Operation("get", "/v1/documents/{document_id}", "One document", None, DocumentObject),
    Operation("delete", "/v1/documents/{document_id}", "Delete a document and its chunks", None,
              DocumentDeleted),
    Operation("post", "/v1/rag", "Answer from the tenant's documents, with sources", RagIn,
              RagAnswer, plain=True),
    Operation("post", "/v1/rag/stream", "RAG answer as server-sent events", RagIn, RagEvent,
              stream=True, plain=True),
)  # fmt: skip

_MEDIA_JSON = "application/json"
_MEDIA_SSE = "text/event-stream"
_MEDIA_FORM = "multipart/form-data"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _operation(op: Operation, existing: dict[str, Any]) -> dict[str, Any]:
    content: dict[str, Any] = {_MEDIA_JSON: {"schema": _ref(op.reply.__name__)}}
    if op.stream:
        content[_MEDIA_SSE] = {"schema": _ref(op.reply.__name__)}
    out = {**existing, "summary": op.summary}
    out.setdefault("operationId", f"{op.method}_{op.path.strip('/').replace('/', '_')}")
    if op.body is not None or op.form is not None:
        body_content: dict[str, Any] = {}
        if op.body is not None:
            body_content[_MEDIA_JSON] = {"schema": _ref(op.body.__name__)}
        if op.form is not None:
            body_content[_MEDIA_FORM] = {"schema": _ref(op.form.__name__)}
        out["requestBody"] = {"required": True, "content": body_content}
    responses = dict(existing.get("responses") or {})
    responses.pop("422", None)  # FastAPI's validation error: ours is a 400 envelope
    if op.status != 200:
        responses.pop("200", None)
    responses[str(op.status)] = {"description": "OK", "content": content}
    responses["default"] = {
        "description": "An error, in the OpenAI envelope",
        "content": {_MEDIA_JSON: {"schema": _ref("ErrorEnvelope")}},
    }
    out["responses"] = responses
    return out


def build_openapi(app: FastAPI) -> dict[str, Any]:
    spec = get_openapi(title=app.title, version=app.version, routes=app.routes)
    paths = spec.setdefault("paths", {})
    ops = [op for op in OPERATIONS if op.plain or op.method in paths.get(op.path, {})]
    models = {m for op in ops for m in (op.body, op.reply, op.form) if m is not None}
    models.add(ErrorEnvelope)
    _, defs = models_json_schema(
        [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
        ref_template="#/components/schemas/{model}",
    )
    spec.setdefault("components", {}).setdefault("schemas", {}).update(defs.get("$defs", {}))
    for op in ops:
        item = paths.setdefault(op.path, {})
        item[op.method] = _operation(op, item.get(op.method, {}))
    return spec


def install_openapi(app: FastAPI) -> None:
    """Serve the completed document at /openapi.json (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
