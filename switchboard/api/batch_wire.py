"""Bodies of OpenAI's Files and Batch API routes, as the `openai` SDK sends and reads them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input_file_id: str = Field(min_length=1, max_length=64)
    endpoint: str = Field(max_length=100)
    completion_window: Literal["24h"]
    metadata: dict[str, str] | None = Field(None, max_length=16)


class FileUpload(BaseModel):
    """The multipart form of `POST /v1/files`."""

    file: bytes = Field(json_schema_extra={"format": "binary"})
    purpose: Literal["batch"]


class FileObject(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    object: Literal["file"]
    bytes: int
    created_at: int
    filename: str
    purpose: str
    status: str


class FileContent(BaseModel):
    """The file's bytes as uploaded or written (JSONL for batch input, output and errors)."""

    model_config = ConfigDict(extra="allow")


class BatchCounts(BaseModel):
    total: int
    completed: int
    failed: int


class BatchObject(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    object: Literal["batch"]
    endpoint: str
    input_file_id: str
    completion_window: str
    status: Literal["validating", "failed", "in_progress", "finalizing", "completed", "expired",
                    "cancelling", "cancelled"]  # fmt: skip
    output_file_id: str | None = None
    error_file_id: str | None = None
    created_at: int
    request_counts: BatchCounts
    metadata: dict[str, Any] | None = None


class BatchList(BaseModel):
    model_config = ConfigDict(extra="allow")

    object: Literal["list"]
    data: list[BatchObject]
    first_id: str | None
    last_id: str | None
    has_more: bool
