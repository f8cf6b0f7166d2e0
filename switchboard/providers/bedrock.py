"""AWS Bedrock adapter: chat through Converse / ConverseStream, Titan embeddings via InvokeModel.

Bedrock's requests are SigV4-signed and its streams are binary event streams, so this adapter
implements `Provider` directly over one aiobotocore `bedrock-runtime` client (its own pool).
Deployment fields: `model` is the modelId (or inference profile / ARN), `region`, `api_base`
(endpoint_url), `api_key` as `ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]` (otherwise the
standard AWS credential chain), `timeout`, `connect_timeout`. Options: `profile` (a named AWS
profile), `max_connections` (default 200), `embed_concurrency` (default 8) and
`additional_model_request_fields` (passed to Converse as is, e.g. `{"top_k": 50}`).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import aiohttp
import orjson
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession
from botocore import exceptions as boto

from switchboard.catalogue import DeploymentConfig
from switchboard.config import Settings
from switchboard.domain import (
    ChatRequest,
    ChatResponse,
    ChunkStream,
    EmbeddingRequest,
    EmbeddingResponse,
    Usage,
)
from switchboard.errors import (
    ProviderError,
    StreamInterrupted,
    SwitchboardError,
    UnsupportedOperation,
    UpstreamBadRequest,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from switchboard.providers.bedrock_stream import ConverseStreamParser
from switchboard.providers.bedrock_translate import (
    converse_arguments,
    parse_converse,
    response_id,
)
from switchboard.providers.status import map_status

DEFAULT_REGION = "us-east-1"
DEFAULT_MAX_CONNECTIONS = 200
DEFAULT_EMBED_CONCURRENCY = 8

# The HTTP status each Bedrock error code is mapped as (codes lower-cased). Exceptions inside a
# stream carry only their type, and some codes read better as another status than their own:
# a spent quota is a rate limit, a model that is not ready yet is unavailable.
ERROR_STATUS: Mapping[str, int] = {
    "throttlingexception": 429,
    "servicequotaexceededexception": 429,
    "validationexception": 400,
    "resourcenotfoundexception": 404,
    "accessdeniedexception": 403,
    "unrecognizedclientexception": 403,
    "invalidsignatureexception": 403,
    "expiredtokenexception": 403,
    "modeltimeoutexception": 504,
    "serviceunavailableexception": 503,
    "modelnotreadyexception": 503,
    "internalserverexception": 500,
    "modelerrorexception": 500,
    "modelstreamerrorexception": 500,
}


def client_error(exc: boto.ClientError, label: str, secrets: tuple[str, ...]) -> ProviderError:
    """A Bedrock error reply (or in-stream exception event) as the error a client sees."""
    error = exc.response.get("Error") or {}
    metadata = exc.response.get("ResponseMetadata") or {}
    code = str(error.get("Code") or "")
    status = ERROR_STATUS.get(code.lower()) or int(metadata.get("HTTPStatusCode") or 500)
    detail = str(error.get("Message") or "")
    message = f"{code}: {detail}" if code else detail
    return map_status(
        status, message, dict(metadata.get("HTTPHeaders") or {}), label=label, secrets=secrets
    )


def upstream_error(
    exc: BaseException, label: str, secrets: tuple[str, ...], *, streaming: bool = False
) -> ProviderError:
    """Any failure of a botocore call or of reading its stream; no message echoes the URL."""
    if isinstance(exc, boto.ClientError):
        return client_error(exc, label, secrets)
    if isinstance(exc, TimeoutError | boto.ConnectTimeoutError | boto.ReadTimeoutError):
        return UpstreamTimeout(f"upstream {label} timed out")
    if isinstance(exc, boto.ParamValidationError):
        return UpstreamBadRequest(f"upstream {label} cannot take this request: {str(exc)[:500]}")
    if isinstance(exc, boto.NoCredentialsError | boto.PartialCredentialsError):
        return ProviderError(f"upstream {label} has no usable AWS credentials")
    if isinstance(exc, boto.CredentialRetrievalError):
        return ProviderError(f"upstream {label} could not obtain AWS credentials")
    broken = (boto.ConnectionClosedError, boto.ResponseStreamingError, aiohttp.ClientError)
    if streaming and isinstance(exc, broken):
        return StreamInterrupted(f"upstream {label} closed the connection mid-response")
    if isinstance(exc, boto.ConnectionError | boto.HTTPClientError | aiohttp.ClientError):
        return UpstreamUnavailable(f"upstream {label} is unreachable ({type(exc).__name__})")
    return ProviderError(f"upstream {label} failed ({type(exc).__name__})")


def explicit_keys(deployment: DeploymentConfig) -> dict[str, str]:
    """`api_key` as ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]; empty = the default chain."""
    if deployment.api_key is None:
        return {}
    parts = deployment.api_key.get_secret_value().split(":", 2)
    if len(parts) < 2 or not all(parts):
        raise ValueError(
            f"deployment {deployment.id}: a bedrock api_key must be "
            "ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]"
        )
    keys = {"aws_access_key_id": parts[0], "aws_secret_access_key": parts[1]}
    if len(parts) == 3:
        keys["aws_session_token"] = parts[2]
    return keys


class BedrockProvider:
    """A Provider over one aiobotocore `bedrock-runtime` client, opened in `start()`."""

    def __init__(self, deployment: DeploymentConfig, region: str) -> None:
        self._deployment = deployment
        self._label = deployment.id
        self._region = region
        self._keys = explicit_keys(deployment)
        self._secrets = tuple(self._keys.values())
        options = deployment.options
        self._embed_slots = asyncio.Semaphore(
            int(options.get("embed_concurrency", DEFAULT_EMBED_CONCURRENCY))
        )
        self._stack = AsyncExitStack()
        self._client: Any = None

    def client_config(self) -> AioConfig:
        """Timeouts from the deployment; no botocore retries, as retrying is the gateway's job."""
        return AioConfig(
            connect_timeout=self._deployment.connect_timeout,
            read_timeout=self._deployment.timeout,
            retries={"total_max_attempts": 1, "mode": "standard"},
            max_pool_connections=int(
                self._deployment.options.get("max_connections", DEFAULT_MAX_CONNECTIONS)
            ),
            warm_up_loader_caches=True,  # read botocore's service model off the event loop
        )

    async def start(self) -> None:
        if self._client is not None:
            return
        session = AioSession(profile=self._deployment.options.get("profile"))
        creator = session.create_client(
            "bedrock-runtime",
            region_name=self._region,
            endpoint_url=self._deployment.api_base,
            config=self.client_config(),
            **self._keys,
        )
        self._client = await self._stack.enter_async_context(creator)

    def is_ready(self) -> bool:
        return self._client is not None

    async def aclose(self) -> None:
        self._client = None
        await self._stack.aclose()

    def _client_or_fail(self) -> Any:
        if self._client is None:
            raise UpstreamUnavailable(f"upstream {self._label} is not started")
        return self._client

    @asynccontextmanager
    async def _upstream_call(self) -> AsyncIterator[None]:
        """Bound one call by the deployment's timeout and map whatever botocore raises."""
        try:
            async with asyncio.timeout(self._deployment.timeout):
                yield
        except SwitchboardError:
            raise
        except Exception as exc:
            raise upstream_error(exc, self._label, self._secrets) from None

    async def chat(self, request: ChatRequest) -> ChatResponse:
        arguments = converse_arguments(request, self._deployment)
        client = self._client_or_fail()
        async with self._upstream_call():
            response = await client.converse(**arguments)
        return parse_converse(response, request.model)

    async def stream(self, request: ChatRequest) -> ChunkStream:
        """Chunks as the events arrive; closing the iterator closes the HTTP response."""
        arguments = converse_arguments(request, self._deployment)
        client = self._client_or_fail()
        async with self._upstream_call():  # bounds the wait for the response head only
            response = await client.converse_stream(**arguments)
        events = response["stream"]
        parser = ConverseStreamParser(response_id(response), request.model)
        try:
            async for event in events:
                for chunk in parser.feed(event):
                    yield chunk
        except Exception as exc:  # GeneratorExit and cancellation are not Exceptions
            raise upstream_error(exc, self._label, self._secrets, streaming=True) from None
        finally:
            events.close()
        if not parser.finished():
            raise StreamInterrupted(f"upstream {self._label} stream ended before it finished")

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        """Titan text embeddings, one InvokeModel call per input, a few at a time."""
        if "titan-embed" not in self._deployment.model:
            raise UnsupportedOperation(
                f"deployment {self._label} serves no embeddings (only Titan embedding models do)",
                param="model",
            )
        texts = request.input
        if not all(isinstance(text, str) for text in texts):
            raise UnsupportedOperation("Titan embeddings take text, not token ids", param="input")
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [
                    group.create_task(self._embed_one(str(text), request.dimensions))
                    for text in texts
                ]
        except ExceptionGroup as failed:
            raise failed.exceptions[0] from None
        results = [task.result() for task in tasks]
        return EmbeddingResponse(
            model=request.model,
            vectors=[vector for vector, _ in results],
            usage=Usage(prompt_tokens=sum(tokens for _, tokens in results)),
        )

    async def _embed_one(self, text: str, dimensions: int | None) -> tuple[list[float], int]:
        body: dict[str, Any] = {"inputText": text}
        if dimensions is not None:
            body["dimensions"] = dimensions
        client = self._client_or_fail()
        async with self._embed_slots, self._upstream_call():
            response = await client.invoke_model(
                modelId=self._deployment.model,
                body=orjson.dumps(body),
                contentType="application/json",
                accept="application/json",
            )
            async with response["body"] as stream:
                payload = orjson.loads(await stream.read())
            return list(payload["embedding"]), int(payload.get("inputTextTokenCount") or 0)


def build_bedrock(deployment: DeploymentConfig, settings: Settings) -> BedrockProvider:
    env = os.environ
    region = deployment.region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    return BedrockProvider(deployment, region or DEFAULT_REGION)
