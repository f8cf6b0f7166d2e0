"""Pydantic models of the request bodies the API accepts, converted to domain types.

Scalars are strict, as OpenAI's own API is: `"stream": "yes"` or `"max_tokens": "10"` is a 400
naming the field, never silently coerced (an integer is still accepted where a number is).
Sizes are bounded so that a large body of tiny items is refused before it costs much.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, field_validator

from switchboard.domain import ChatRequest, EmbeddingRequest, Message

MAX_MESSAGES = 10_000
"""Messages in one chat request."""
MAX_CONTENT_PARTS = 10_000
"""Content parts in one chat request, all messages together."""
MAX_TOKENS = 10**7
"""Largest max_tokens / max_completion_tokens accepted."""
MAX_CHOICES = 128
"""Largest `n` accepted (OpenAI's own limit)."""
MAX_DIMENSIONS = 65_536
"""Largest embedding `dimensions` accepted."""


Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
"""A finite JSON number (integers too), never a string."""

_TYPED = {
    "model",
    "messages",
    "stream",
    "stream_options",
    "max_tokens",
    "temperature",
    "top_p",
    "stop",
}
_NOTHING: frozenset[str] = frozenset()


class ChatMessageIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None

    @field_validator("content")
    @classmethod
    def _parts_have_type(cls, value: Any) -> Any:
        if isinstance(value, list):
            for part in value:
                if not isinstance(part.get("type"), str):
                    raise ValueError("each content part needs a string `type`")
        return value


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: StrictBool = False


class SamplingIn(BaseModel):
    """The fields chat and legacy completions share; unknown fields pass through upstream."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, max_length=256)
    stream: StrictBool = False
    stream_options: StreamOptions | None = None
    max_tokens: StrictInt | None = Field(None, ge=1, le=MAX_TOKENS)
    temperature: Number | None = Field(None, ge=0, le=2)
    top_p: Number | None = Field(None, ge=0, le=1)
    n: StrictInt | None = Field(
        None,
        ge=1,
        le=MAX_CHOICES,
        description="choices to generate: passed upstream where it serves n, else n parallel calls",
    )
    stop: str | list[str] | None = None
    presence_penalty: Number | None = Field(None, ge=-2, le=2)
    frequency_penalty: Number | None = Field(None, ge=-2, le=2)

    @field_validator("stop")
    @classmethod
    def _stop_limit(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, list) and len(value) > 4:
            raise ValueError("at most 4 stop sequences")
        return value

    def chat_request(self, messages: list[Message], handled: frozenset[str]) -> ChatRequest:
        """The domain request; fields in `handled` were translated by the caller."""
        params = {k: v for k, v in (self.model_extra or {}).items() if v is not None}
        for name in self.model_fields_set - _TYPED - handled:
            value = getattr(self, name)
            if value is not None:
                params[name] = value
        stop = [self.stop] if isinstance(self.stop, str) else self.stop
        return ChatRequest(
            model=self.model,
            messages=messages,
            stream=self.stream,
            include_usage=bool(self.stream_options and self.stream_options.include_usage),
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            stop=stop,
            params=params,
        )


def bounded_items(value: Any, items: str, parts: str) -> Any:
    """Count a list of messages (or input items) and their content parts before validating
    them, so that a flood of tiny items costs one pass and is refused as a whole."""
    if not isinstance(value, list):
        return value
    if len(value) > MAX_MESSAGES:
        raise ValueError(f"at most {MAX_MESSAGES} {items} per request")
    count = sum(
        len(m["content"])
        for m in value
        if isinstance(m, dict) and isinstance(m.get("content"), list)
    )
    if count > MAX_CONTENT_PARTS:
        raise ValueError(f"at most {MAX_CONTENT_PARTS} {parts} per request")
    return value


class ChatCompletionIn(SamplingIn):
    """OpenAI's chat completion body; unknown fields pass through to OpenAI-compatible upstreams."""

    messages: list[ChatMessageIn] = Field(min_length=1)
    max_completion_tokens: StrictInt | None = Field(None, ge=1, le=MAX_TOKENS)

    @field_validator("messages", mode="before")
    @classmethod
    def _bounded(cls, value: Any) -> Any:
        return bounded_items(value, "messages", "content parts")

    def to_domain(self) -> ChatRequest:
        messages = [
            Message(m.role, m.content, m.name, m.tool_calls, m.tool_call_id) for m in self.messages
        ]
        return self.chat_request(messages, _NOTHING)


LEGACY_DEFAULT_MAX_TOKENS = 16
"""OpenAI's default for `/v1/completions` (chat's is the model's own limit)."""
_COMPLETION_HANDLED = frozenset({"prompt", "echo", "suffix", "logprobs", "best_of"})


class CompletionIn(SamplingIn):
    """OpenAI's legacy completion body, translated to chat: the prompt is one user message."""

    prompt: str | list[str] = Field(description="one prompt (token arrays are not translated)")
    max_tokens: StrictInt | None = Field(LEGACY_DEFAULT_MAX_TOKENS, ge=1, le=MAX_TOKENS)
    echo: StrictBool = False
    suffix: str | None = Field(None, description="not supported: chat models do not insert")
    logprobs: StrictInt | None = Field(None, description="not supported: not translated")
    best_of: StrictInt | None = Field(None, ge=1, le=1, description="only best_of=1")

    @field_validator("suffix", "logprobs")
    @classmethod
    def _not_translated(cls, value: object) -> object:
        if value is not None:
            raise ValueError("not supported: /v1/completions is translated to chat")
        return value

    @field_validator("prompt", mode="before")
    @classmethod
    def _one_prompt(cls, value: Any) -> Any:
        if isinstance(value, list):
            if len(value) != 1:
                raise ValueError("exactly one prompt per request")
            if not isinstance(value[0], str):
                raise ValueError("token arrays are not supported: prompts are sent to chat")
        return value

    def prompt_text(self) -> str:
        return self.prompt if isinstance(self.prompt, str) else self.prompt[0]

    def to_domain(self) -> ChatRequest:
        return self.chat_request([Message("user", self.prompt_text())], _COMPLETION_HANDLED)


class EmbeddingsIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1, max_length=256)
    input: str | list[str] | list[int] | list[list[int]]
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: StrictInt | None = Field(None, ge=1, le=MAX_DIMENSIONS)
    user: str | None = None

    @field_validator("input")
    @classmethod
    def _not_empty(cls, value: Any) -> Any:
        if isinstance(value, list) and not value:
            raise ValueError("input must not be empty")
        if value == "":
            raise ValueError("input must not be an empty string")
        if isinstance(value, list) and len(value) > 2048:
            raise ValueError("at most 2048 inputs per request")
        return value

    def to_domain(self) -> EmbeddingRequest:
        value = self.input
        inputs: list[str] | list[list[int]]
        if isinstance(value, str):
            inputs = [value]
        elif value and isinstance(value[0], int):
            inputs = [value]  # type: ignore[list-item]
        else:
            inputs = value  # type: ignore[assignment]
        return EmbeddingRequest(
            self.model, inputs, self.encoding_format, self.dimensions, self.user
        )


class SimpleChatIn(BaseModel):
    """Body of the simple API: one message, an optional conversation to continue."""

    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, max_length=100_000)
    conversation_id: str | None = Field(None, min_length=1, max_length=128)
    model: str | None = Field(None, min_length=1, max_length=256)
    temperature: Number = Field(0.7, ge=0, le=2)
    max_tokens: StrictInt = Field(512, ge=1, le=4096)
    system: str | None = Field(None, max_length=20_000)
