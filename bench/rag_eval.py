"""RAG on the committed corpus: ingestion speed, then retrieval quality.

Run from the repository root (loads the shipped MiniLM; about a minute on 2 cores):

    python -m bench.rag_eval                    # progress on stderr, summary on stdout
    python -m bench.rag_eval --json out.json    # and the figures as JSON
    python -m bench.rag_eval --chunk-tokens 24 --overlap 6   # several chunks a document

1. Ingestion: every document of bench/data/rag/corpus.jsonl (markdown, HTML, plain text) through
   the real steps (parse, chunk by tokens, embed with MiniLM, index in the embedded HNSW index,
   on SQLite), with progress; chunks/s by wall clock and by this process's CPU time.
2. Retrieval: each question of questions.jsonl (its source document is known) against the
   index: hit@1, hit@3 and MRR@10 by source document, overall and per domain. The baseline, in
   the same run: exact cosine search over the same vectors (what HNSW approximates).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from switchboard.config import Settings
from switchboard.embeddings.local import LocalEmbedder
from switchboard.rag.build import RagServices
from switchboard.rag.models import NewDocument
from switchboard.vectors.hnsw import HnswIndex

DATA = Path(__file__).parent / "data" / "rag"
OWNER = "tenant:bench"


def load(name: str) -> list[dict[str, Any]]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


async def ingest(rag: RagServices, docs: list[dict[str, Any]]) -> dict[str, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    chunks = 0
    for i, doc in enumerate(docs, 1):
        new = NewDocument(doc["id"], doc["format"], doc["content"].encode())
        stored = await rag.ingestion.submit(OWNER, new)
        chunks += (await rag.ingestion.run(OWNER, stored.id, stored.version)).chunks
        if i % 20 == 0 or i == len(docs):
            rate = chunks / (time.perf_counter() - wall)
            print(f"\ringested {i}/{len(docs)} documents, {chunks} chunks, {rate:.1f} chunks/s",
                  end="", file=sys.stderr)  # fmt: skip
    print(file=sys.stderr)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "documents": len(docs),
        "chunks": chunks,
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "chunks_per_s": round(chunks / wall, 1),
        "chunks_per_cpu_s": round(chunks / cpu, 1),
    }


def scores(ranked: list[list[str]], expected: list[str]) -> dict[str, float]:
    hit1 = hit3 = rr = 0.0
    for found, want in zip(ranked, expected, strict=True):
        rank = found.index(want) + 1 if want in found else None
        hit1 += rank == 1
        hit3 += rank is not None and rank <= 3
        rr += 1.0 / rank if rank is not None else 0.0
    n = len(expected)
    return {"hit@1": round(hit1 / n, 4), "hit@3": round(hit3 / n, 4), "mrr@10": round(rr / n, 4)}


def documents_in_order(chunk_ids: list[str]) -> list[str]:
    """Each chunk's document, first occurrence kept (a document ranks by its best chunk)."""
    seen: list[str] = []
    for cid in chunk_ids:
        doc = cid.split(":v", 1)[0]
        if doc not in seen:
            seen.append(doc)
    return seen


async def retrieval(rag: RagServices, questions: list[dict[str, Any]]) -> dict[str, Any]:
    started = time.perf_counter()
    ranked = []
    for q in questions:
        found = await rag.retriever.search(OWNER, q["question"], 10)
        ranked.append(documents_in_order([s.chunk_id for s in found]))
    per_query_ms = (time.perf_counter() - started) * 1000 / len(questions)
    expected = [q["document_id"] for q in questions]
    by_domain: dict[str, list[int]] = defaultdict(list)
    for i, q in enumerate(questions):
        by_domain[q["document_id"].split("-", 1)[0]].append(i)
    exact = await exact_ranking(rag, questions)
    return {
        "questions": len(questions),
        "hnsw": scores(ranked, expected),
        "exact_baseline": scores(exact, expected),
        "per_domain": {
            d: scores([ranked[i] for i in idx], [expected[i] for i in idx])
            for d, idx in sorted(by_domain.items())
        },
        "ms_per_query": round(per_query_ms, 2),
    }


async def exact_ranking(rag: RagServices, questions: list[dict[str, Any]]) -> list[list[str]]:
    ids: list[str] = []
    rows = []
    async for _, chunk_ids, vectors in rag.store.served_vectors():
        ids += chunk_ids
        rows.append(vectors)
    matrix = np.concatenate(rows)
    queries = await rag.retriever.embedder.embed([q["question"] for q in questions])
    order = np.argsort(-(queries @ matrix.T), axis=1)[:, :10]
    return [documents_in_order([ids[j] for j in row]) for row in order]


async def main(chunk_tokens: int, overlap: int) -> dict[str, Any]:
    docs, questions = load("corpus.jsonl"), load("questions.jsonl")
    embedder = LocalEmbedder()
    await embedder.ready()  # the model's load is not ingestion time
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            database_url=f"sqlite:///{folder}/rag.db",
            rag_chunk_tokens=chunk_tokens,
            rag_chunk_overlap=overlap,
        )
        index = HnswIndex()
        rag = RagServices.build(settings, embedder, index)
        await rag.start()
        report = {
            "chunking": {
                "tokens": settings.rag_chunk_tokens,
                "overlap": settings.rag_chunk_overlap,
            },
            "ingestion": await ingest(rag, docs),
            "retrieval": await retrieval(rag, questions),
        }
        await rag.aclose()
        await index.aclose()
    await embedder.aclose()
    return report


def summary(report: dict[str, Any]) -> str:
    ing, ret = report["ingestion"], report["retrieval"]
    lines = [
        f"ingestion: {ing['documents']} documents, {ing['chunks']} chunks in {ing['wall_s']} s: "
        f"{ing['chunks_per_s']} chunks/s wall, {ing['chunks_per_cpu_s']} chunks per CPU-second",
        f"retrieval over {ret['questions']} questions (HNSW): hit@1 {ret['hnsw']['hit@1']}, "
        f"hit@3 {ret['hnsw']['hit@3']}, MRR@10 {ret['hnsw']['mrr@10']}; "
        f"{ret['ms_per_query']} ms a query (embedding included)",
        f"exact-search baseline: hit@1 {ret['exact_baseline']['hit@1']}, "
        f"hit@3 {ret['exact_baseline']['hit@3']}, MRR@10 {ret['exact_baseline']['mrr@10']}",
    ]
    for domain, s in ret["per_domain"].items():
        lines.append(f"  {domain:10s} hit@1 {s['hit@1']}  hit@3 {s['hit@3']}  MRR {s['mrr@10']}")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--chunk-tokens", type=int, default=200, help="tokens per chunk")
    parser.add_argument("--overlap", type=int, default=40, help="tokens shared by neighbours")
    args = parser.parse_args()
    figures = asyncio.run(main(args.chunk_tokens, args.overlap))
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    print(summary(figures))
