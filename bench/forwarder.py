"""The thinnest FastAPI forwarder: the baseline that Switchboard's overhead is measured against.

One route, POST /v1/chat/completions, sends the raw request body upstream over one shared
aiohttp session and returns the upstream's raw bytes and status; an SSE answer is piped through
unchanged. It runs under the same uvicorn settings as `switchboard serve`.

    python -m bench.forwarder --upstream http://127.0.0.1:9100/v1 --port 9200
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import uvicorn
from fastapi import FastAPI, Request
from starlette.responses import Response, StreamingResponse


def create_forwarder(upstream: str, api_key: str) -> FastAPI:
    """Build the app; the session lives in the lifespan, like Switchboard's transport pool."""
    url = upstream.rstrip("/") + "/chat/completions"
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {api_key}"}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Same pool limit as switchboard's HttpTransport, so neither queues on the connector.
        connector = aiohttp.TCPConnector(limit=1000)
        async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
            app.state.session = session
            yield

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        session: aiohttp.ClientSession = request.app.state.session
        upstream_reply = await session.post(url, data=await request.body())
        media_type = upstream_reply.headers.get("Content-Type", "application/json")
        if not media_type.startswith("text/event-stream"):
            try:
                body = await upstream_reply.read()
            finally:
                upstream_reply.release()
            return Response(body, status_code=upstream_reply.status, media_type=media_type)

        async def pipe() -> AsyncIterator[bytes]:
            try:
                async for piece in upstream_reply.content.iter_any():
                    yield piece
            finally:
                upstream_reply.release()

        return StreamingResponse(pipe(), status_code=upstream_reply.status, media_type=media_type)

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="the baseline FastAPI forwarder")
    parser.add_argument("--upstream", required=True, help="base URL, e.g. http://127.0.0.1:9100/v1")
    parser.add_argument("--api-key", default="sk-bench")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9200)
    args = parser.parse_args()
    uvicorn.run(
        create_forwarder(args.upstream, args.api_key),
        host=args.host,
        port=args.port,
        log_level="info",
        access_log=False,
        loop="uvloop",
        http="httptools",
        ws="auto",
        workers=1,
    )


if __name__ == "__main__":
    main()
