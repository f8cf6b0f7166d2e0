"""Idempotency-Key on POST /v1/documents, with real ingestion as a chain of jobs: a repeat
gets the first document and task and ingests nothing more; the key with another document is a
409 in the OpenAI envelope; keys are per owner; racing repeats still make one document."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from switchboard.config import Settings
from switchboard.jobs.idempotency import Idempotency
from switchboard.rag.models import NewDocument
from switchboard.testing.harness import BackgroundLoop, GatewayServer, MockUpstream, run_gateway
from tests.api.test_documents_rag import MARS, client_for, wait_ready
from tests.conftest import mock_catalogue

MASTER = "sk-master-rag-test-0123456789"


@pytest.fixture
def gw(tmp_path: Path, background: BackgroundLoop, mock_upstream: MockUpstream) -> Iterator[Any]:
    settings = Settings(
        catalogue=mock_catalogue(mock_upstream),
        master_key=MASTER,
        database_url=f"sqlite:///{tmp_path / 'gateway.db'}",
        rag_chunk_tokens=48,
        rag_chunk_overlap=8,
        jobs_poll_s=0.2,
    )
    with run_gateway(background, settings) as server:
        yield server


def rag_jobs(client: httpx.Client) -> list[str]:
    listed = client.get("/v1/tasks", params={"limit": 100}).json()["data"]
    return sorted(t["kind"] for t in listed if t["kind"].startswith("rag."))


def test_a_repeat_gets_the_first_document_and_ingests_once(gw: GatewayServer) -> None:
    with client_for(gw, "alice") as alice:
        once = {"Idempotency-Key": "upload-1"}
        body = {"content": MARS.decode(), "format": "txt", "title": "Mars", "filename": "m.txt"}
        first = alice.post("/v1/documents", json=body, headers=once)
        assert first.status_code == 202, first.text
        doc = first.json()
        wait_ready(alice, doc["id"])
        again = alice.post("/v1/documents", json=body, headers=once)
        assert again.status_code == 202, again.text
        assert (again.json()["id"], again.json()["task_id"]) == (doc["id"], doc["task_id"])
        assert again.json()["version"] == 1 and again.json()["status"] == "ready"
        files = {"file": ("m.txt", MARS, "text/plain")}  # the same document, multipart
        multipart = alice.post("/v1/documents", data={"title": "Mars", "format": "txt"},
                               files=files, headers=once)  # fmt: skip
        assert multipart.status_code == 202, multipart.text
        assert multipart.json()["id"] == doc["id"]
        listed = alice.get("/v1/documents").json()["data"]
        assert [d["id"] for d in listed] == [doc["id"]]
        assert rag_jobs(alice) == ["rag.chunk", "rag.embed", "rag.index"]  # one chain
        fresh = alice.post("/v1/documents", json=body, headers={"Idempotency-Key": "upload-2"})
        assert fresh.json()["id"] != doc["id"]  # a new key is a new upload


def test_the_key_with_another_document_is_a_409(gw: GatewayServer) -> None:
    with client_for(gw, "alice") as alice, client_for(gw, "bob") as bob:
        once = {"Idempotency-Key": "upload-9"}
        first = alice.post("/v1/documents", json={"content": "one", "format": "txt"}, headers=once)
        assert first.status_code == 202
        other = {"content_base64": base64.b64encode(b"two").decode(), "format": "txt"}
        reused = alice.post("/v1/documents", json=other, headers=once)
        assert reused.status_code == 409, reused.text
        error = reused.json()["error"]
        assert error["type"] == "invalid_request_error"
        assert (error["code"], error["param"]) == ("idempotency_key_reused", "Idempotency-Key")
        assert len(alice.get("/v1/documents").json()["data"]) == 1  # nothing stored
        bobs = bob.post("/v1/documents", json=other, headers=once)  # keys are per owner
        assert bobs.status_code == 202 and bobs.json()["id"] != first.json()["id"]
        task = alice.post("/v1/tasks", headers=once, json={"kind": "chat.completion",
                          "input": {"model": "mock", "messages": []}})  # fmt: skip
        assert task.status_code == 409  # a key names one request, whichever the route
        long_key = {"Idempotency-Key": "k" * 201}
        too_long = alice.post("/v1/documents", json={"content": "x"}, headers=long_key)
        assert too_long.status_code == 400


def test_racing_repeats_make_one_document(gw: GatewayServer, background: BackgroundLoop) -> None:
    runtime = background.run(gw.gateway.rag.get())
    idem = Idempotency.of("race", "documents", {"content": "same"})

    async def upload() -> tuple[str, str | None]:
        new = NewDocument(f"doc_{uuid.uuid4().hex}", "txt", b"Phobos and Deimos.")
        doc, task = await runtime.submit("tenant:t", new, by="key:k", key_id=None, idem=idem)
        return doc.id, task

    async def both() -> list[tuple[str, str | None]]:
        return list(await asyncio.gather(upload(), upload(), upload()))

    results = background.run(both())
    assert len(set(results)) == 1, results
    stored = background.run(runtime.services.store.list("tenant:t", 10, None))
    assert [d.id for d in stored] == [results[0][0]]
