"""OpenAI-compatible adapter: OpenAI, vLLM, TGI's Messages API, llama.cpp server, Ollama."""

from __future__ import annotations

from typing import Any

import orjson

from switchboard.catalogue import DeploymentConfig
from switchboard.config import Settings
from switchboard.domain import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    Choice,
    ChunkChoice,
    EmbeddingRequest,
    EmbeddingResponse,
    Usage,
)
from switchboard.errors import ProviderError
from switchboard.providers.base import SseEvent, UpstreamRequest
from switchboard.providers.capabilities import serves_natively
from switchboard.providers.http import HttpProvider
from switchboard.providers.openai_responses import (
    ResponsesStreamParser,
    parse_response,
    responses_request,
)
from switchboard.providers.status import map_status
from switchboard.providers.transport import HttpTransport, TransportConfig


def request_body(
    request: ChatRequest, upstream_model: str | None, *, stream: bool
) -> dict[str, Any]:
    """The OpenAI chat body: passthrough params first, then the typed fields over them."""
    body: dict[str, Any] = dict(request.params)
    if upstream_model is not None:
        body["model"] = upstream_model
    body["messages"] = [m.to_openai() for m in request.messages]
    for key in ("max_tokens", "temperature", "top_p", "stop"):
        value = getattr(request, key)
        if value is not None:
            body[key] = value
    if stream:
        body["stream"] = True
        # Always ask for usage: accounting needs it even when the client did not.
        body["stream_options"] = {**body.get("stream_options", {}), "include_usage": True}
    else:
        body.pop("stream_options", None)
    return body


_USAGE_OWN = frozenset({"prompt_tokens", "completion_tokens", "total_tokens"})
_RESPONSE_OWN = frozenset({"id", "object", "created", "model", "choices", "usage"})
_CHOICE_OWN = frozenset({"index", "message", "delta", "finish_reason"})
_MESSAGE_OWN = frozenset({"role", "content", "tool_calls"})
_NULL_CONTENT_DELTA_OWN = frozenset({"role", "tool_calls"})  # a `content: null` is kept as sent


def rest(data: dict[str, Any], own: frozenset[str]) -> dict[str, Any] | None:
    """The fields of `data` that Switchboard does not interpret, kept as sent (None if none)."""
    extra = {k: v for k, v in data.items() if k not in own}
    return extra or None


def parse_usage(data: dict[str, Any] | None) -> Usage | None:
    if not data:
        return None
    prompt_details = data.get("prompt_tokens_details") or {}
    completion_details = data.get("completion_tokens_details") or {}
    return Usage(
        prompt_tokens=int(data.get("prompt_tokens") or 0),
        completion_tokens=int(data.get("completion_tokens") or 0),
        cached_tokens=int(prompt_details.get("cached_tokens") or 0),
        reasoning_tokens=int(completion_details.get("reasoning_tokens") or 0),
        extra=rest(data, _USAGE_OWN),
    )


def parse_choice(c: dict[str, Any]) -> Choice:
    message = c.get("message") or {}
    return Choice(
        index=c.get("index", 0),
        content=message.get("content"),
        finish_reason=c.get("finish_reason"),
        tool_calls=message.get("tool_calls"),
        role=message.get("role") or "assistant",
        message_extra=rest(message, _MESSAGE_OWN),
        extra=rest(c, _CHOICE_OWN),
    )


def parse_chunk_choice(c: dict[str, Any]) -> ChunkChoice:
    delta = c.get("delta") or {}
    content = delta.get("content")
    return ChunkChoice(
        index=c.get("index", 0),
        content=content,
        role=delta.get("role"),
        tool_calls=delta.get("tool_calls"),
        finish_reason=c.get("finish_reason"),
        delta_extra=rest(delta, _MESSAGE_OWN if content is not None else _NULL_CONTENT_DELTA_OWN),
        extra=rest(c, _CHOICE_OWN),
    )


class OpenAIStreamParser:
    """OpenAI chunks map one to one; `data: [DONE]` ends the stream."""

    def __init__(self, model: str, error: Any) -> None:
        self._model = model
        self._error = error
        self._done = False
        self._finished = False

    def feed(self, event: SseEvent) -> list[ChatChunk]:
        if event.data == "[DONE]":
            self._done = True
            return []
        data = orjson.loads(event.data)
        if "error" in data and "choices" not in data:
            raise self._error(500, event.data.encode(), {})
        choices = [parse_chunk_choice(c) for c in data.get("choices") or ()]
        if any(c.finish_reason for c in choices):
            self._finished = True
        chunk = ChatChunk(
            id=data.get("id", ""),
            created=data.get("created", 0),
            model=self._model,
            choices=choices,
            usage=parse_usage(data.get("usage")),
            extra=rest(data, _RESPONSE_OWN),
        )
        return [chunk]

    def done(self) -> bool:
        return self._done

    def finished(self) -> bool:
        return self._finished


class OpenAIAdapter:
    """Translation for the OpenAI chat/embeddings wire format; a Responses request goes to
    `responses_path` as the client wrote it when the deployment says `responses_api: native`."""

    chat_path = "/chat/completions"
    embeddings_path = "/embeddings"
    responses_path = "/responses"

    def __init__(self, deployment: DeploymentConfig) -> None:
        self.deployment = deployment
        self._secret = deployment.api_key.get_secret_value() if deployment.api_key else ""
        self._headers = {"content-type": "application/json", **self.auth_headers()}

    def auth_headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self._secret}"} if self._secret else {}

    def upstream_model(self) -> str | None:
        return self.deployment.model

    def chat_request(self, request: ChatRequest, *, stream: bool) -> UpstreamRequest:
        if serves_natively(request, self.deployment):
            model = self.deployment.model  # Azure too: its v1 Responses API names it in the body
            return responses_request(
                request, self.responses_path, model, self._headers, stream=stream
            )
        body = request_body(request, self.upstream_model(), stream=stream)
        return UpstreamRequest(self.chat_path, orjson.dumps(body), self._headers)

    def parse_chat(self, body: bytes, request: ChatRequest) -> ChatResponse:
        if serves_natively(request, self.deployment):
            return parse_response(body, request)
        data = orjson.loads(body)
        return ChatResponse(
            id=data.get("id", ""),
            created=data.get("created", 0),
            model=request.model,
            choices=[parse_choice(c) for c in data.get("choices") or ()],
            usage=parse_usage(data.get("usage")),
            extra=rest(data, _RESPONSE_OWN),
        )

    def stream_parser(self, request: ChatRequest) -> OpenAIStreamParser | ResponsesStreamParser:
        if serves_natively(request, self.deployment):
            return ResponsesStreamParser(request.model, self.error)
        return OpenAIStreamParser(request.model, self.error)

    def embed_request(self, request: EmbeddingRequest) -> UpstreamRequest:
        body: dict[str, Any] = {"input": request.input, "encoding_format": "float"}
        if self.upstream_model() is not None:
            body["model"] = self.upstream_model()
        if request.dimensions is not None:
            body["dimensions"] = request.dimensions
        return UpstreamRequest(self.embeddings_path, orjson.dumps(body), self._headers)

    def parse_embeddings(self, body: bytes, request: EmbeddingRequest) -> EmbeddingResponse:
        data = orjson.loads(body)
        rows = sorted(data.get("data") or (), key=lambda r: r.get("index", 0))
        usage = data.get("usage") or {}
        return EmbeddingResponse(
            model=request.model,
            vectors=[r["embedding"] for r in rows],
            usage=Usage(prompt_tokens=int(usage.get("prompt_tokens") or 0)),
        )

    def error(self, status: int, body: bytes, headers: dict[str, str]) -> ProviderError:
        message = body.decode("utf-8", "replace")
        try:
            payload = orjson.loads(body)
            err = payload.get("error", payload) if isinstance(payload, dict) else payload
            if isinstance(err, dict):
                message = str(err.get("message") or message)
                inner = err.get("code")
                if status == 500 and isinstance(inner, int) and inner >= 400:
                    status = inner  # an error event inside a stream carries its own status
        except orjson.JSONDecodeError:
            pass
        return map_status(
            status, message, headers, label=self.deployment.id, secrets=(self._secret,)
        )


def transport_for(deployment: DeploymentConfig, default_base: str) -> HttpTransport:
    return HttpTransport(
        TransportConfig(
            base_url=deployment.api_base or default_base,
            label=deployment.id,
            timeout=deployment.timeout,
            connect_timeout=deployment.connect_timeout,
            headers=tuple(deployment.headers.items()),
        )
    )


def build_openai(deployment: DeploymentConfig, settings: Settings) -> HttpProvider:
    return HttpProvider(
        OpenAIAdapter(deployment), transport_for(deployment, "https://api.openai.com/v1")
    )
