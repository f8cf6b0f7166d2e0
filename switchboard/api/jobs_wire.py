"""Bodies of the job routes (`/v1/tasks`, `/v1/feedback`), validated at the door."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class TaskIn(BaseModel):
    """A background job; `input` is the body the kind takes (chat.completion: a chat body)."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(min_length=1, max_length=100)
    input: dict[str, Any]
    callback_url: str | None = Field(None, max_length=2000)
    priority: int = Field(5, ge=0, le=9, description="9 runs first")


class FeedbackIn(BaseModel):
    """Feedback on a response, stored off the request path."""

    model_config = ConfigDict(extra="forbid")

    response_id: str = Field(min_length=1, max_length=200)
    score: float | None = Field(None, ge=-1e6, le=1e6)
    label: str | None = Field(None, max_length=100)
    comment: str | None = Field(None, max_length=10_000)


class TaskObject(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    object: Literal["task"]
    kind: str
    status: Literal["queued", "running", "succeeded", "failed", "cancelled", "dead_letter"]
    progress: float
    result: Any = None
    error: dict[str, Any] | None = None
    created_at: int
    started_at: int | None = None
    finished_at: int | None = None


class TaskList(BaseModel):
    model_config = ConfigDict(extra="allow")

    object: Literal["list"]
    data: list[TaskObject]
    has_more: bool


class FeedbackAccepted(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    object: Literal["feedback"]
    task_id: str
    status: str
