"""Documents and RAG over HTTP with the real httpx client: uploads in each format (JSON and
multipart), tenant isolation (404s, no foreign sources), replacement on re-ingest, the SSE
event order, citations, the error event, and the one-JSON answer."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from switchboard.config import Settings
from switchboard.testing.harness import BackgroundLoop, GatewayServer, MockUpstream, run_gateway
from tests.conftest import fault_model, mock_catalogue
from tests.rag.conftest import make_pdf

MASTER = "sk-master-rag-test-0123456789"
MARS = b"Mars has two moons, Phobos and Deimos."


@pytest.fixture(scope="module")
def rag_gateway(
    background: BackgroundLoop,
    mock_upstream: MockUpstream,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[GatewayServer]:
    folder: Path = tmp_path_factory.mktemp("rag")
    extra = [fault_model(mock_upstream, "mock-500", {"x-mock-error-status": "500"})]
    settings = Settings(
        catalogue=mock_catalogue(mock_upstream, extra),
        master_key=MASTER,
        database_url=f"sqlite:///{folder / 'gateway.db'}",
        rag_chunk_tokens=48,
        rag_chunk_overlap=8,
    )
    with run_gateway(background, settings) as server:
        yield server


def client_for(gw: GatewayServer, tenant: str) -> httpx.Client:
    base = f"http://127.0.0.1:{gw.port}"
    made = httpx.post(
        f"{base}/admin/keys",
        json={"name": tenant, "tenant": tenant},
        headers={"Authorization": f"Bearer {MASTER}"},
    )
    assert made.status_code in (200, 201), made.text
    key = made.json()["key"]
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60)


@pytest.fixture(scope="module")
def alice(rag_gateway: GatewayServer) -> Iterator[httpx.Client]:
    with client_for(rag_gateway, "alice") as client:
        yield client


@pytest.fixture(scope="module")
def bob(rag_gateway: GatewayServer) -> Iterator[httpx.Client]:
    with client_for(rag_gateway, "bob") as client:
        yield client


def wait_ready(client: httpx.Client, doc_id: str, version: int = 1) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        doc = client.get(f"/v1/documents/{doc_id}").json()
        if doc["status"] in ("ready", "failed") and doc["indexed_version"] == version:
            return dict(doc)
        if doc["status"] == "failed":
            return dict(doc)
        time.sleep(0.05)
    raise AssertionError(f"document {doc_id} not ready: {doc}")


def sse_events(client: httpx.Client, body: dict[str, Any]) -> list[tuple[str, Any]]:
    events: list[tuple[str, Any]] = []
    with client.stream("POST", "/v1/rag/stream", json=body) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        name = None
        for line in resp.iter_lines():
            if line.startswith("event: "):
                name = line[len("event: ") :]
            elif line.startswith("data: "):
                assert name is not None
                events.append((name, json.loads(line[len("data: ") :])))
                name = None
    return events


@pytest.fixture(scope="module")
def library(alice: httpx.Client) -> dict[str, Any]:
    """Alice's documents, one per format and way of upload."""
    posted = [
        alice.post(
            "/v1/documents",
            json={
                "id": "tea",
                "format": "markdown",
                "content": "# Tea\n\nGreen tea is unoxidised.",
            },
        ),
        alice.post(
            "/v1/documents",
            files={"file": ("owls.html", b"<title>Owls</title><p>Barn owls hunt mice.</p>")},
            data={"id": "owls"},
        ),
        alice.post(
            "/v1/documents",
            files={
                "file": (
                    "ice.pdf",
                    make_pdf(["Glaciers carve valleys.", "Moraines are rock left by ice."], "Ice"),
                    "application/pdf",
                )
            },
            data={"id": "ice"},
        ),
        alice.post(
            "/v1/documents",
            json={
                "id": "mars",
                "filename": "mars.txt",
                "content_base64": base64.b64encode(
                    b"Mars has two moons, Phobos and Deimos."
                ).decode(),
            },
        ),
    ]
    for resp in posted:
        assert resp.status_code == 202, resp.text
        assert resp.json()["status"] == "queued"
        assert resp.json()["task_id"].startswith("task_")  # the job engine runs the ingestion
    docs = {d: wait_ready(alice, d) for d in ("tea", "owls", "ice", "mars")}
    docs["tasks"] = [resp.json()["task_id"] for resp in posted]
    return docs


def test_ingestion_is_a_chain_of_jobs_owned_by_the_uploader(
    library: dict[str, Any], alice: httpx.Client, bob: httpx.Client
) -> None:
    first = alice.get(f"/v1/tasks/{library['tasks'][0]}").json()
    assert first["status"] == "succeeded"
    kinds, job = [], first
    while True:
        kinds.append(job["kind"])
        if not job.get("next_id"):
            break
        job = alice.get(f"/v1/tasks/{job['next_id']}").json()
    assert kinds == ["rag.chunk", "rag.embed", "rag.index"]
    assert job["status"] == "succeeded" and job["result"]["chunks"] == library["tea"]["chunks"]
    assert bob.get(f"/v1/tasks/{library['tasks'][0]}").status_code == 404


def test_every_format_is_ingested(library: dict[str, Any]) -> None:
    docs = {d: doc for d, doc in library.items() if d != "tasks"}
    assert {d: doc["status"] for d, doc in docs.items()} == dict.fromkeys(docs, "ready")
    assert library["ice"]["pages"] == 2 and library["ice"]["format"] == "pdf"
    assert library["owls"]["title"] == "Owls" and library["tea"]["title"] == "Tea"
    assert library["mars"]["format"] == "txt"


def test_listing_and_another_tenant_gets_404(
    library: dict[str, Any], alice: httpx.Client, bob: httpx.Client
) -> None:
    listed = alice.get("/v1/documents", params={"limit": 2}).json()
    assert [d["id"] for d in listed["data"]] == ["ice", "mars"] and listed["has_more"]
    assert bob.get("/v1/documents").json()["data"] == []
    for resp in (bob.get("/v1/documents/tea"), bob.delete("/v1/documents/tea")):
        assert resp.status_code == 404
        assert resp.json()["error"]["code"] == "not_found"
    assert alice.get("/v1/documents/tea").status_code == 200


def test_rag_stream_events_in_order_with_sources_and_citations(
    library: dict[str, Any], alice: httpx.Client
) -> None:
    events = sse_events(alice, {"query": "What are moraines?", "model": "mock", "top_k": 2})
    names = [name for name, _ in events]
    assert names[:3] == ["status", "sources", "status"]
    assert events[0][1] == {"step": "retrieving"} and events[2][1] == {"step": "generating"}
    assert names[-1] == "done" and set(names[3:-1]) == {"token"}
    sources = events[1][1]
    assert len(sources) == 2 and set(sources[0]) >= {"title", "page", "chunk_id", "score"}
    assert (sources[0]["title"], sources[0]["page"]) == ("Ice", 2)
    answer = "".join(data["text"] for name, data in events if name == "token")
    assert "Sources: [1] Ice, p. 2" in answer
    done = events[-1][1]
    assert done["usage"]["completion_tokens"] == 8 and done["usage"]["prompt_tokens"] > 0
    assert done["cost"] > 0 and done["latency"] > 0
    assert done["citations"][0]["chunk_id"] == sources[0]["chunk_id"]


def test_another_tenant_never_retrieves_foreign_chunks(
    library: dict[str, Any], bob: httpx.Client
) -> None:
    events = sse_events(bob, {"query": "What are moraines?", "model": "mock"})
    assert events[1] == ("sources", [])
    reply = bob.post("/v1/rag", json={"query": "Mars moons", "model": "mock"}).json()
    assert reply["sources"] == []


def test_errors_after_the_start_are_an_error_event(
    library: dict[str, Any], alice: httpx.Client
) -> None:
    events = sse_events(alice, {"query": "tea", "model": "no-such-model"})
    assert [n for n, _ in events] == ["status", "sources", "status", "error"]
    assert events[-1][1]["code"] == "model_not_found"
    events = sse_events(alice, {"query": "tea", "model": "mock-500"})
    assert events[-1][0] == "error" and events[-1][1]["type"] == "upstream_error"


def test_errors_before_the_start_keep_their_status(
    rag_gateway: GatewayServer, alice: httpx.Client
) -> None:
    anonymous = httpx.post(
        f"http://127.0.0.1:{rag_gateway.port}/v1/rag/stream", json={"query": "x"}
    )
    assert anonymous.status_code == 401
    assert alice.post("/v1/rag/stream", json={"query": ""}).status_code == 400
    assert alice.post("/v1/rag", json={"query": "x", "top_k": "3"}).status_code == 400
    bad = alice.post("/v1/documents", json={"content": "x", "format": "docx"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "content_type"
    both = alice.post("/v1/documents", json={"content": "x", "content_base64": "eA=="})
    assert both.status_code == 400
    nofile = alice.post("/v1/documents", files={"other": ("a.txt", b"x")})
    assert nofile.status_code == 400 and nofile.json()["error"]["param"] == "file"


def test_rag_json_answer(library: dict[str, Any], alice: httpx.Client) -> None:
    reply = alice.post("/v1/rag", json={"query": "How many moons has Mars?", "model": "mock"})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["sources"][0]["chunk_id"].startswith("mars:v1:")
    assert "Phobos" in body["sources"][0]["text"]
    # the mock cites nothing, so the answer names every source it was given
    assert "\n\nSources: [1] Mars has two moons, Phobos and Deimos.; [2] Ice" in body["answer"]
    assert [c["n"] for c in body["citations"]] == list(range(1, len(body["sources"]) + 1))
    assert body["usage"]["total_tokens"] > 0 and body["cost"] > 0


def test_re_ingest_replaces_and_delete_removes(
    library: dict[str, Any], alice: httpx.Client
) -> None:
    posted = alice.post("/v1/documents", json={"id": "comet", "content": "Comets have tails."})
    assert posted.status_code == 202
    wait_ready(alice, "comet")
    again = alice.post("/v1/documents", json={"id": "comet", "content": "Comets are icy bodies."})
    assert again.json()["version"] == 2
    assert wait_ready(alice, "comet", version=2)["chunks"] == 1
    found = alice.post("/v1/rag", json={"query": "comet", "model": "mock", "top_k": 5}).json()
    comets = [s["text"] for s in found["sources"] if s["document_id"] == "comet"]
    assert comets == ["Comets are icy bodies."]
    assert alice.delete("/v1/documents/comet").json() == {
        "id": "comet",
        "object": "document.deleted",
        "deleted": True,
    }
    assert alice.get("/v1/documents/comet").status_code == 404
    found = alice.post("/v1/rag", json={"query": "comet", "model": "mock", "top_k": 5}).json()
    assert all(s["document_id"] != "comet" for s in found["sources"])


def test_an_evaluation_job_over_the_rag_pipeline(
    library: dict[str, Any], alice: httpx.Client, bob: httpx.Client
) -> None:
    items = [
        {"question": "What are moraines?", "answer": "rock left by ice", "document_id": "ice"},
        {"question": "How many moons has Mars?", "answer": "two", "document_id": "mars"},
    ]
    body = {"items": items, "options": {"kind": "rag", "model": "mock", "top_k": 2}}
    posted = alice.post("/v1/tasks", json={"kind": "eval.run", "input": body})
    assert posted.status_code == 202, posted.text
    task_id = posted.json()["id"]
    deadline = time.monotonic() + 60
    while (task := alice.get(f"/v1/tasks/{task_id}").json())["status"] not in (
        "succeeded",
        "failed",
        "dead_letter",
    ):
        assert time.monotonic() < deadline, task
        time.sleep(0.1)
    assert task["status"] == "succeeded", task
    report = task["result"]
    assert report["object"] == "evaluation.report" and report["answered"] == 2
    assert report["scores"]["retrieval_hit"] == 1.0  # alice's own documents were retrieved
    assert report["cost_usd"] > 0 and report["usage"]["prompt_tokens"] > 0
    assert bob.get(f"/v1/tasks/{task_id}").status_code == 404
