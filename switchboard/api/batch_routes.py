"""OpenAI's Files and Batch API (`client.files`, `client.batches` of the `openai` SDK): files
and batches belong to the key that created them; another key's id is answered 404."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.responses import Response

from switchboard.api.batch_wire import BatchIn
from switchboard.api.body import parse_body, read_body
from switchboard.api.jobs_routes import caller, idempotency_key
from switchboard.api.openai_routes import json_response
from switchboard.errors import InvalidRequest, NotFoundError, PayloadTooLarge
from switchboard.jobs.batch_format import batch_view, file_view
from switchboard.jobs.batch_store import SqlBatchStore
from switchboard.jobs.batches import cancel_batch, submit_batch
from switchboard.jobs.idempotency import Idempotency

MAX_PAGE = 100
router = APIRouter()


async def _once(raw: bytes) -> AsyncGenerator[bytes, None]:
    yield raw


async def store_of(request: Request) -> tuple[SqlBatchStore, str]:
    engine, _, owner = await caller(request)
    return SqlBatchStore(engine.store.engine), owner


@router.post("/v1/files")
async def create_file(request: Request) -> Response:
    store, owner = await store_of(request)
    limit = request.app.state.gateway.settings.batch_max_file_bytes
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidRequest("POST /v1/files takes multipart/form-data (file, purpose)")
    raw = await read_body(request, limit + 64 * 1024)
    try:
        form = await MultiPartParser(request.headers, _once(raw), max_files=1, max_fields=4).parse()
    except MultiPartException as exc:
        raise InvalidRequest(f"Bad multipart body: {exc.message}") from None
    upload, purpose = form.get("file"), form.get("purpose")
    if not isinstance(upload, UploadFile):
        raise InvalidRequest("The multipart body needs a `file` part.", param="file")
    if purpose != "batch":
        raise InvalidRequest("purpose must be `batch`", param="purpose")
    content = await upload.read()
    if len(content) > limit:
        raise PayloadTooLarge(f"The file exceeds the limit of {limit} bytes.")
    row = await store.add_file(owner, "batch", upload.filename or "upload.jsonl", content)
    return json_response(file_view(row))


@router.get("/v1/files/{file_id}")
async def get_file(request: Request, file_id: str) -> Response:
    store, owner = await store_of(request)
    row = await store.file(file_id, owner)
    if row is None:
        raise NotFoundError(f"No file with id {file_id!r}.", param="file_id")
    return json_response(file_view(row))


@router.get("/v1/files/{file_id}/content")
async def get_file_content(request: Request, file_id: str) -> Response:
    store, owner = await store_of(request)
    content = await store.content(file_id, owner)
    if content is None:
        raise NotFoundError(f"No file with id {file_id!r}.", param="file_id")
    return Response(content, media_type="application/octet-stream")


@router.post("/v1/batches")
async def create_batch(request: Request) -> Response:
    _, key, owner = await caller(request)
    gateway = request.app.state.gateway
    body = await parse_body(request, BatchIn, gateway.settings.max_body_bytes)
    request_body = body.model_dump()
    idem = Idempotency.of(idempotency_key(request), "batches", request_body)
    row = await submit_batch(gateway, key, owner, request_body, idem)
    return json_response(batch_view(row))


@router.get("/v1/batches/{batch_id}")
async def get_batch(request: Request, batch_id: str) -> Response:
    store, owner = await store_of(request)
    row = await store.batch(batch_id, owner)
    if row is None:
        raise NotFoundError(f"No batch with id {batch_id!r}.", param="batch_id")
    return json_response(batch_view(row))


@router.get("/v1/batches")
async def list_batches(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
    after: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    store, owner = await store_of(request)
    rows = await store.batches(owner, limit + 1, after)
    data = [batch_view(r) for r in rows[:limit]]
    first, last = (data[0]["id"], data[-1]["id"]) if data else (None, None)
    return json_response({"object": "list", "data": data, "first_id": first, "last_id": last,
                          "has_more": len(rows) > limit})  # fmt: skip


@router.post("/v1/batches/{batch_id}/cancel")
async def cancel(request: Request, batch_id: str) -> Response:
    _, _, owner = await caller(request)
    row = await cancel_batch(request.app.state.gateway, owner, batch_id)
    if row is None:
        raise NotFoundError(f"No batch with id {batch_id!r}.", param="batch_id")
    return json_response(batch_view(row))
