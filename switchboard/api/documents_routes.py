"""Documents for RAG: `POST /v1/documents` (JSON or multipart) stores a document and starts its
ingestion (202, with the job to poll), `GET /v1/documents[/{id}]`, `DELETE /v1/documents/{id}`.

Documents belong to the caller's tenant: another tenant's id is a 404. The RAG runtime is the
Gateway's (`gateway.rag`), built on the first request that needs it; ingestion runs as a
chain of jobs when the job engine is on (the 202 names the first job), else in-process.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import uuid
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from switchboard.api.body import load_json_object, read_body
from switchboard.api.deps import caller_key, gateway_of
from switchboard.api.errors import invalid_from_validation
from switchboard.api.jobs_routes import idempotency_key
from switchboard.api.openai_routes import json_response
from switchboard.api.responses_routes import owner_of
from switchboard.errors import InvalidRequest, NotFoundError, PayloadTooLarge
from switchboard.jobs.idempotency import Idempotency
from switchboard.rag.build import RagRuntime
from switchboard.rag.models import Document, NewDocument, tenant_owner
from switchboard.rag.parsers import detect_format

if TYPE_CHECKING:
    from switchboard.keys.models import ApiKey

DOCUMENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")
MAX_LIST = 1000


router = APIRouter()


async def runtime_of(conn: HTTPConnection) -> RagRuntime:
    holder = gateway_of(conn).rag
    assert holder is not None  # Gateway.build makes it
    return await holder.get()


def owner_for(key: ApiKey | None) -> str:
    return tenant_owner(key.tenant if key is not None else None)


async def tenant_of(conn: HTTPConnection) -> str:
    return owner_for(await caller_key(conn, gateway_of(conn)))


class DocumentIn(BaseModel):
    """The JSON form: text in `content`, or any format's bytes in `content_base64`."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(None, pattern=DOCUMENT_ID.pattern)
    title: str | None = Field(None, max_length=500)
    filename: str | None = Field(None, max_length=500)
    format: str | None = Field(None, max_length=100, description="txt, markdown, html or pdf")
    content: str | None = None
    content_base64: str | None = None
    metadata: dict[str, Any] | None = None


def document_json(doc: Document) -> dict[str, Any]:
    return {
        "id": doc.id,
        "object": "document",
        "title": doc.title,
        "filename": doc.filename,
        "format": doc.format,
        "status": doc.status,
        "error": doc.error,
        "version": doc.version,
        "indexed_version": doc.indexed_version,
        "chunks": doc.chunks,
        "tokens": doc.tokens,
        "pages": doc.pages,
        "sha256": doc.content_sha256,
        "metadata": doc.meta,
        "created_at": int(doc.created_at.timestamp()),
        "updated_at": int(doc.updated_at.timestamp()),
    }


def _fingerprinted(request: Request, new: NewDocument, given_id: str | None) -> Idempotency | None:
    """What makes two uploads the same request: the document as parsed (so JSON and multipart
    framings of one file match), its id only when the client chose it."""
    seen = {"id": given_id, "title": new.title, "filename": new.filename, "format": new.format,
            "metadata": new.meta, "sha256": hashlib.sha256(new.content).hexdigest()}  # fmt: skip
    return Idempotency.of(idempotency_key(request), "documents", seen)


def _from_json(body: DocumentIn) -> NewDocument:
    if (body.content is None) == (body.content_base64 is None):
        raise InvalidRequest("Give exactly one of `content` and `content_base64`.", param="content")
    if body.content is not None:
        data = body.content.encode()
    else:
        try:
            data = base64.b64decode(body.content_base64 or "", validate=True)
        except (binascii.Error, ValueError):
            raise InvalidRequest(
                "`content_base64` is not base64.", param="content_base64"
            ) from None
    fmt = detect_format(body.format, body.filename)
    doc_id = body.id or f"doc_{uuid.uuid4().hex}"
    return NewDocument(doc_id, fmt, data, body.title, body.filename, body.metadata)


async def _body_stream(raw: bytes) -> AsyncGenerator[bytes, None]:
    yield raw


async def _from_multipart(request: Request, raw: bytes) -> tuple[NewDocument, str | None]:
    """Fields `file` (the document), and optional `id`, `title`, `format`."""
    parser = MultiPartParser(request.headers, _body_stream(raw), max_files=1, max_fields=10)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise InvalidRequest(f"Bad multipart body: {exc.message}") from None
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidRequest("The multipart body needs a `file` part.", param="file")
    data = await upload.read()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    fields["filename"] = fields.get("filename") or upload.filename or ""
    fields["format"] = fields.get("format") or upload.content_type or ""
    try:
        body = DocumentIn.model_validate({k: v or None for k, v in fields.items()})
    except ValidationError as exc:
        raise invalid_from_validation(exc) from None
    fmt = detect_format(body.format, body.filename)
    doc_id = body.id or f"doc_{uuid.uuid4().hex}"
    return NewDocument(doc_id, fmt, data, body.title, body.filename), body.id


async def create_document(request: Request) -> Response:
    """Idempotency-Key: a repeat gets the first request's document and task (jobs on)."""
    key = await caller_key(request, gateway_of(request))
    owner = owner_for(key)
    runtime = await runtime_of(request)
    limit = gateway_of(request).settings.rag_max_document_bytes
    raw = await read_body(request, limit * 2)  # base64 and multipart framing take room
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        new, given_id = await _from_multipart(request, raw)
    else:
        try:
            body = DocumentIn.model_validate(load_json_object(raw))
        except ValidationError as exc:
            raise invalid_from_validation(exc) from None
        new, given_id = _from_json(body), body.id
    if len(new.content) > limit:
        raise PayloadTooLarge(f"The document exceeds the limit of {limit} bytes.")
    idem = _fingerprinted(request, new, given_id)
    doc, task_id = await runtime.submit(
        owner, new, by=owner_of(key), key_id=key.id if key else None, idem=idem
    )
    return json_response({**document_json(doc), "task_id": task_id}, status=202)


@router.get("/v1/documents")
async def list_documents(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 100,
    after: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """Ordered by id; `after` is the last id of the previous page."""
    owner = await tenant_of(request)
    docs = await (await runtime_of(request)).services.store.list(owner, limit + 1, after)
    data = [document_json(d) for d in docs[:limit]]
    return json_response({"object": "list", "data": data, "has_more": len(docs) > limit})


def _not_found(document_id: str) -> NotFoundError:
    return NotFoundError(f"Document with id '{document_id}' not found.", param="document_id")


@router.get("/v1/documents/{document_id}")
async def get_document(request: Request, document_id: str) -> Response:
    owner = await tenant_of(request)
    doc = await (await runtime_of(request)).services.store.get(owner, document_id)
    if doc is None:
        raise _not_found(document_id)
    return json_response(document_json(doc))


@router.delete("/v1/documents/{document_id}")
async def delete_document(request: Request, document_id: str) -> Response:
    owner = await tenant_of(request)
    if not await (await runtime_of(request)).services.ingestion.delete(owner, document_id):
        raise _not_found(document_id)
    return json_response({"id": document_id, "object": "document.deleted", "deleted": True})


router.add_route("/v1/documents", create_document, methods=["POST"])
