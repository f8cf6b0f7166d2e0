"""The documents and RAG routes are in `/openapi.json` with their bodies and replies."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from switchboard.testing.harness import GatewayServer


@pytest.fixture(scope="module")
def spec(gateway: GatewayServer) -> dict[str, Any]:
    resp = httpx.get(gateway.base + "/openapi.json", timeout=10)
    assert resp.status_code == 200
    return resp.json()  # type: ignore[no-any-return]


def _schema(spec: dict[str, Any], holder: dict[str, Any]) -> dict[str, Any]:
    ref = holder["schema"]["$ref"].rsplit("/", 1)[-1]
    return spec["components"]["schemas"][ref]  # type: ignore[no-any-return]


def test_document_routes(spec: dict[str, Any]) -> None:
    paths = spec["paths"]
    create = paths["/v1/documents"]["post"]
    content = create["requestBody"]["content"]
    assert {"content", "content_base64", "format", "id"} <= set(
        _schema(spec, content["application/json"])["properties"]
    )
    assert "file" in _schema(spec, content["multipart/form-data"])["properties"]
    assert (
        "task_id"
        in _schema(spec, create["responses"]["202"]["content"]["application/json"])["properties"]
    )
    listing = paths["/v1/documents"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"limit", "after"}
    assert {"get", "delete"} <= set(paths["/v1/documents/{document_id}"])


def test_rag_routes(spec: dict[str, Any]) -> None:
    stream = spec["paths"]["/v1/rag/stream"]["post"]
    body = _schema(spec, stream["requestBody"]["content"]["application/json"])
    assert body["required"] == ["query"]
    assert "text/event-stream" in stream["responses"]["200"]["content"]
    answer = spec["paths"]["/v1/rag"]["post"]["responses"]["200"]["content"]["application/json"]
    assert {"answer", "sources", "usage", "cost", "latency"} <= set(
        _schema(spec, answer)["properties"]
    )
