"""Read a JSON request body within the size limit and validate it into an edge model.

Nesting is bounded (MAX_JSON_DEPTH) before parsing: bodies are re-serialised on their way
upstream, and a structure deeper than the serialiser's recursion limit would fail there.
"""

from __future__ import annotations

import operator
import re
from itertools import accumulate, count
from typing import TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from starlette.requests import ClientDisconnect, Request

from switchboard.api.errors import invalid_from_validation
from switchboard.errors import ClientClosedRequest, InvalidRequest, PayloadTooLarge

M = TypeVar("M", bound=BaseModel)

MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects a body may have (the body itself is level 1)."""

_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = bytes(c for c in range(256) if c not in b"[]{}")
_BRACKET_STEP = bytes.maketrans(b"[]{}", b"\x02\x00\x02\x00")  # open: +1, close: -1 (minus 1)


def json_depth(raw: bytes) -> int:
    """Deepest nesting in a JSON text, in C-speed passes: strings removed, brackets counted."""
    steps = _JSON_STRING.sub(b"", raw).translate(_BRACKET_STEP, _NOT_BRACKET)
    if not steps:
        return 0
    return max(map(operator.sub, accumulate(steps), count(1)))


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refused (413) as soon as it is known to exceed `limit`; a client that
    leaves (or is cut off by the server's body deadline) mid-body is a 499, not a crash."""
    try:
        return await _read_within(request, limit)
    except ClientDisconnect:
        raise ClientClosedRequest("The client went away while sending the body.") from None


async def _read_within(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise PayloadTooLarge(f"Request body exceeds the limit of {limit} bytes.")
        except ValueError:
            raise InvalidRequest("Invalid Content-Length header.") from None
        return await request.body()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():  # chunked upload: count as it arrives
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"Request body exceeds the limit of {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def load_json_object(raw: bytes) -> dict[str, object]:
    """Parse a body that must be one JSON object, nested at most MAX_JSON_DEPTH deep."""
    if not raw:
        raise InvalidRequest("The request body is empty; expected a JSON object.")
    # no more brackets than the limit cannot nest deeper than it: most bodies skip the count
    if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH and json_depth(raw) > MAX_JSON_DEPTH:
        raise InvalidRequest(
            f"The request body is nested more than {MAX_JSON_DEPTH} levels deep.",
            code="invalid_json",
        )
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(
            f"The request body is not valid JSON: {exc}", code="invalid_json"
        ) from None
    if not isinstance(data, dict):
        raise InvalidRequest("The request body must be a JSON object.", code="invalid_json")
    return data


async def parse_body(request: Request, model: type[M], limit: int) -> M:
    return (await parse_body_and_raw(request, model, limit))[0]


async def parse_body_and_raw(
    request: Request, model: type[M], limit: int
) -> tuple[M, dict[str, object]]:
    """The validated body and the JSON object it came from (for a route that passes it on)."""
    data = load_json_object(await read_body(request, limit))
    try:
        return model.model_validate(data), data
    except ValidationError as exc:
        raise invalid_from_validation(exc) from None
