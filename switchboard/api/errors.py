"""Render every error as the OpenAI envelope `{"error": {message, type, param, code}}`.

An unexpected exception becomes the envelope's 500 inside the app (`UnexpectedErrors`), so the
client's keep-alive connection stays usable. Starlette's outermost error handler, which the
server follows by dropping the connection, is left only for failures in outer middleware; its
500 says `Connection: close` so that pooled clients do not reuse a connection about to close.
"""

from __future__ import annotations

import logging

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchboard.api.render import error_json
from switchboard.errors import InvalidRequest, SwitchboardError

log = logging.getLogger("switchboard.api")


def error_response(exc: SwitchboardError) -> Response:
    return Response(
        orjson.dumps(error_json(exc)),
        status_code=exc.status,
        media_type="application/json",
        headers=exc.headers,
    )


def _internal_error() -> SwitchboardError:
    return SwitchboardError("The server had an error processing your request.")


class UnexpectedErrors:
    """Answers an exception that no handler took with the 500 envelope, and keeps the
    connection; once the response has started there is nothing to render, so it re-raises."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if started:
                raise
            log.error("unhandled error on %s: %s", scope["path"], type(exc).__name__, exc_info=exc)
            await error_response(_internal_error())(scope, receive, send)


def invalid_from_validation(exc: ValidationError | RequestValidationError) -> InvalidRequest:
    """Name the first offending field, as OpenAI does in `param`."""
    errors = exc.errors()
    if not errors:
        return InvalidRequest("Invalid request body.")
    first = errors[0]
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body",)]
    field = ".".join(loc) or None
    msg = first.get("msg", "invalid value")
    where = f" for '{field}'" if field else ""
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return InvalidRequest(f"Invalid value{where}: {msg}{more}", param=field, code="invalid_value")


def _noted(request: Request, err: SwitchboardError, outcome: str | None = None) -> Response:
    """The response, with the error's code left for the request log (api/middleware.py)."""
    request.scope.setdefault("state", {})["error_code"] = outcome or err.code or err.type
    return error_response(err)


async def _on_switchboard_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SwitchboardError)
    return _noted(request, exc)


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError | ValidationError)
    return _noted(request, invalid_from_validation(exc))


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    err = SwitchboardError(str(exc.detail), code=None)
    err.status = exc.status_code
    err.type = "invalid_request_error" if exc.status_code < 500 else "server_error"
    if exc.status_code == 404:
        err.message = f"Unknown path: {request.url.path}"
    return _noted(request, err, f"http_{exc.status_code}")


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s: %s", request.url.path, type(exc).__name__, exc_info=exc)
    response = error_response(_internal_error())
    response.headers["Connection"] = "close"  # the server drops the connection after this
    return response


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(SwitchboardError, _on_switchboard_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(ValidationError, _on_validation_error)
    app.add_exception_handler(HTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
    app.add_middleware(UnexpectedErrors)
