"""`/openapi.json` lists every public route with its request and response schemas, the plain
Starlette routes (chat completions, completions, embeddings) included, so `/docs` shows them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from switchboard.app import create_app
from switchboard.config import Settings
from switchboard.testing.harness import GatewayServer

WITH_BODY = [
    "/v1/chat/completions",
    "/v1/completions",
    "/v1/embeddings",
    "/chat/completions",
    "/completions",
    "/embeddings",
    "/v1/chat",
    "/v1/chat/stream",
]


@pytest.fixture(scope="module")
def spec(gateway: GatewayServer) -> dict[str, Any]:
    resp = httpx.get(gateway.base + "/openapi.json", timeout=10)
    assert resp.status_code == 200
    return resp.json()  # type: ignore[no-any-return]


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref", "")
    return spec["components"]["schemas"][ref.rsplit("/", 1)[-1]] if ref else schema


@pytest.mark.parametrize("path", WITH_BODY)
def test_post_routes_have_request_and_response_schemas(spec: dict[str, Any], path: str) -> None:
    op = spec["paths"][path]["post"]
    body = _resolve(spec, op["requestBody"]["content"]["application/json"]["schema"])
    assert "model" in body["properties"] or "message" in body["properties"]
    ok = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert _resolve(spec, ok)["properties"]
    error = op["responses"]["default"]["content"]["application/json"]["schema"]
    assert "error" in _resolve(spec, error)["properties"]


def test_chat_completion_schema_names_the_fields(spec: dict[str, Any]) -> None:
    op = spec["paths"]["/v1/chat/completions"]["post"]
    body = _resolve(spec, op["requestBody"]["content"]["application/json"]["schema"])
    assert {"model", "messages", "stream", "max_tokens", "n"} <= set(body["properties"])
    assert set(body["required"]) == {"model", "messages"}
    assert "text/event-stream" in op["responses"]["200"]["content"]
    completion = _resolve(spec, op["responses"]["200"]["content"]["application/json"]["schema"])
    assert {"id", "choices", "usage", "model"} <= set(completion["properties"])


def test_models_routes_listed(spec: dict[str, Any]) -> None:
    for path in ("/v1/models", "/models", "/v1/models/{model_id}", "/models/{model_id}"):
        assert "200" in spec["paths"][path]["get"]["responses"]


def test_admin_routes_absent_without_a_master_key(spec: dict[str, Any]) -> None:
    assert not [p for p in spec["paths"] if p.startswith("/admin")]


def test_admin_key_body_listed_with_a_master_key() -> None:
    app = create_app(Settings(master_key=SecretStr("sk-master-openapi-0123456789")))
    op = app.openapi()["paths"]["/admin/keys"]["post"]
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/KeySpec") and "201" in op["responses"] and "200" not in op["responses"]
