"""OpenAI's Batch API formats: the input JSONL (one request a line), the file and batch
objects, and the output and error lines, so that the `openai` SDK reads them unchanged."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from switchboard.api.schemas import ChatCompletionIn
from switchboard.domain import ChatRequest
from switchboard.errors import InvalidRequest

BATCH_ENDPOINTS = ("/v1/chat/completions",)
MAX_LINES = 50_000


@dataclass(frozen=True)
class BatchLine:
    line_no: int
    custom_id: str
    body: dict[str, Any]
    request: ChatRequest


def _line_error(line_no: int, message: str) -> InvalidRequest:
    return InvalidRequest(f"input file line {line_no + 1}: {message}", param="input_file_id")


def parse_input(content: bytes, endpoint: str) -> list[BatchLine]:
    """Every line checked before the batch is accepted (a bad file is a 400, not a failed
    batch); custom_id must be unique, as OpenAI requires."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest("the input file is not UTF-8", param="input_file_id") from None
    out: list[BatchLine] = []
    seen: set[str] = set()
    for line_no, raw in enumerate(text.splitlines()):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
        except ValueError:
            raise _line_error(line_no, "not JSON") from None
        if not isinstance(item, dict) or not isinstance(item.get("body"), dict):
            raise _line_error(line_no, "needs custom_id, method, url and a body object")
        custom_id, url = item.get("custom_id"), item.get("url")
        if not isinstance(custom_id, str) or not custom_id or len(custom_id) > 500:
            raise _line_error(line_no, "custom_id must be a non-empty string")
        if custom_id in seen:
            raise _line_error(line_no, f"duplicate custom_id {custom_id!r}")
        if item.get("method", "POST") != "POST" or url != endpoint:
            raise _line_error(line_no, f"method must be POST and url {endpoint}")
        try:
            request = ChatCompletionIn.model_validate({**item["body"], "stream": False})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise _line_error(line_no, f"body.{where}: {first['msg']}") from None
        seen.add(custom_id)
        out.append(BatchLine(len(out), custom_id, item["body"], request.to_domain()))
        if len(out) > MAX_LINES:
            raise InvalidRequest(f"at most {MAX_LINES} requests a batch", param="input_file_id")
    if not out:
        raise InvalidRequest("the input file holds no requests", param="input_file_id")
    return out


def _ts(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value is not None else None


def file_view(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "object": "file",
        "bytes": row.bytes,
        "created_at": _ts(row.created_at),
        "filename": row.filename,
        "purpose": row.purpose,
        "status": "processed",
        "status_details": None,
        "expires_at": None,
    }


def batch_view(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "object": "batch",
        "endpoint": row.endpoint,
        "errors": row.errors,
        "input_file_id": row.input_file_id,
        "completion_window": row.completion_window,
        "status": row.status,
        "output_file_id": row.output_file_id,
        "error_file_id": row.error_file_id,
        "created_at": _ts(row.created_at),
        "in_progress_at": _ts(row.in_progress_at),
        "expires_at": _ts(row.expires_at),
        "finalizing_at": _ts(row.finalizing_at),
        "completed_at": _ts(row.completed_at),
        "failed_at": _ts(row.failed_at),
        "expired_at": None,
        "cancelling_at": _ts(row.cancelling_at),
        "cancelled_at": _ts(row.cancelled_at),
        "request_counts": {"total": row.total, "completed": row.completed, "failed": row.failed},
        "metadata": row.batch_metadata,
        "task_id": row.job_id,
    }


def output_line(batch_id: str, row: Any) -> dict[str, Any]:
    """One line of the output (status < 400) or error file, as OpenAI writes them."""
    return {
        "id": f"batch_req_{batch_id.removeprefix('batch_')}_{row.line_no}",
        "custom_id": row.custom_id,
        "response": {
            "status_code": row.status_code,
            "request_id": f"{batch_id}-{row.line_no}",
            "body": row.body,
        },
        "error": None,
    }


def jsonl(items: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(i, separators=(",", ":")).encode() + b"\n" for i in items)
