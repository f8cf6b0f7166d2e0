"""`switchboard eval FILE`: a dataset of questions with reference answers through a model or the
RAG pipeline, scored; the JSON report to `--out`, a summary to stdout.

With a job broker configured (SWITCHBOARD_JOBS_BROKER_URL) the run is an `eval.run` job that the
workers execute, followed here until it ends; otherwise it runs in this process. Either way the
model calls go through the pipeline with `--api-key` (needed when keys are on).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from switchboard.config import Settings
    from switchboard.gateway import Gateway
    from switchboard.jobs.eval_task import EvalOptions
    from switchboard.keys.models import ApiKey
    from switchboard.rag.models import NewDocument

POLL_S = 1.0


def add_eval_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ev = sub.add_parser("eval", help="score a model or the RAG pipeline on a Q&A dataset")
    ev.add_argument("file", type=Path, help="JSON Lines: question, answer (or answers), ...")
    ev.add_argument("--model", help="the model answering (default: the catalogue's default)")
    ev.add_argument("--rag", action="store_true", help="answer from the tenant's documents")
    ev.add_argument("--top-k", type=int, help="RAG: sources per question")
    ev.add_argument("--judge", help="a model grading each answer CORRECT/INCORRECT")
    ev.add_argument("--max-tokens", type=int, help="answer length limit")
    ev.add_argument("--concurrency", type=int, default=4, help="questions at once (default 4)")
    ev.add_argument("--documents", type=Path, help="RAG: JSON Lines of documents to ingest first")
    ev.add_argument("--api-key", help="the key the calls run under (env: SWITCHBOARD_API_KEY)")
    ev.add_argument("--config", help="YAML model catalogue (default: the embedded local model)")
    ev.add_argument("--out", type=Path, help="write the JSON report here")
    ev.set_defaults(func=run_eval_command)


def run_eval_command(args: argparse.Namespace) -> int:
    from switchboard.config import Settings
    from switchboard.evaluation.dataset import DatasetError, load_dataset
    from switchboard.evaluation.report import summary
    from switchboard.jobs.eval_task import EvalOptions

    overrides: dict[str, Any] = {"preload_local_model": False}
    if args.config:
        overrides["config"] = args.config
    settings = Settings(**overrides)
    try:
        items = load_dataset(args.file)
        documents = _documents(args.documents) if args.documents else []
    except (DatasetError, OSError, ValueError, KeyError) as exc:
        print(f"cannot read the dataset or documents: {exc}", file=sys.stderr)
        return 2
    options = EvalOptions(
        kind="rag" if args.rag else "model",
        model=args.model,
        top_k=args.top_k,
        judge_model=args.judge,
        max_tokens=args.max_tokens,
        concurrency=args.concurrency,
    )
    api_key = args.api_key or os.environ.get("SWITCHBOARD_API_KEY")
    try:
        report = asyncio.run(_run(settings, items, options, api_key, documents))
    except RuntimeError as exc:
        print(f"eval failed: {exc}", file=sys.stderr)
        return 1
    if args.out is not None:
        args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(summary(report))
    return 0


async def _run(
    settings: Settings,
    items: list[Any],
    options: EvalOptions,
    api_key: str | None,
    documents: list[NewDocument],
) -> dict[str, Any]:
    from switchboard.gateway import Gateway

    gateway = Gateway.build(settings)
    await gateway.start()
    try:
        key = await _key(gateway, api_key)
        if documents:
            await _ingest(gateway, key, documents)
        if gateway.jobs is not None and settings.jobs_broker_url:
            return await _as_job(gateway, key, items, options)
        from switchboard.jobs.eval_task import evaluate

        return await evaluate(gateway, key, items, options, _progress)
    finally:
        await gateway.aclose()


async def _key(gateway: Gateway, api_key: str | None) -> ApiKey | None:
    if gateway.authenticator is None or not gateway.settings.auth_required:
        return None
    if not api_key:
        raise RuntimeError("API keys are on: give --api-key (or SWITCHBOARD_API_KEY)")
    return await gateway.authenticator.authenticate(api_key)


def _documents(path: Path) -> list[NewDocument]:
    """JSON Lines of documents: id, content, and optional format and title."""
    from switchboard.rag.models import NewDocument

    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            doc = json.loads(line)
            fmt = doc.get("format", "txt")
            out.append(NewDocument(doc["id"], fmt, doc["content"].encode(), doc.get("title")))
    return out


async def _ingest(gateway: Gateway, key: ApiKey | None, documents: list[NewDocument]) -> None:
    """The documents into the key's tenant, through the ingestion steps, in this process."""
    from switchboard.rag.models import tenant_owner

    assert gateway.rag is not None
    ingestion = (await gateway.rag.get()).services.ingestion
    owner = tenant_owner(key.tenant if key is not None else None)
    for i, new in enumerate(documents, 1):
        stored = await ingestion.submit(owner, new)
        await ingestion.run(owner, stored.id, stored.version)
        print(f"\ringested {i}/{len(documents)} documents", end="", file=sys.stderr)
    print(file=sys.stderr)


async def _progress(done: int, total: int) -> None:
    print(f"\ranswered {done}/{total}", end="" if done < total else "\n", file=sys.stderr)


async def _as_job(
    gateway: Gateway, key: ApiKey | None, items: list[Any], options: EvalOptions
) -> dict[str, Any]:
    """Submit `eval.run` to the workers and follow it to its end."""
    from switchboard.jobs.eval_task import EVAL_TASK
    from switchboard.jobs.model import JobRequest
    from switchboard.pipeline.context import ANONYMOUS

    engine = gateway.jobs
    assert engine is not None
    owner = ANONYMOUS if key is None else f"tenant:{key.tenant}/key:{key.id}"
    payload = {"items": [i.as_json() for i in items], "options": options.model_dump()}
    job = await engine.submit(
        JobRequest(kind=EVAL_TASK, owner=owner, key_id=key.id if key else None, payload=payload)
    )
    print(f"submitted job {job.id}", file=sys.stderr)
    while not job.finished:
        await asyncio.sleep(POLL_S)
        found = await engine.get(job.id, owner)
        assert found is not None
        job = found
        print(f"\r{job.id} {job.status} {job.progress:.0f}%", end="", file=sys.stderr)
    print(file=sys.stderr)
    if job.status != "succeeded":
        raise RuntimeError(f"job {job.id} ended {job.status}: {job.error}")
    result: dict[str, Any] = job.result
    return result
