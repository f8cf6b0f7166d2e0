"""Recall of the embedded HNSW index on real MiniLM embeddings of question-like texts.

    python -m bench.vector_recall                    # 20k questions on CPU: 3-5 min on 2 cores
    python -m bench.vector_recall --sizes 10000,100000,1000000 --device cuda \\
        --connectivity 16,32 --random-sizes 100000,1000000 --json out.jsonl   # the doc's run

The corpus (bench/questions.py) is embedded with the shipped MiniLM; each prefix of it (the
sizes) is added through the VectorIndex API, then four kinds of query are searched top-1, one
at a time on one thread, for each ef_search: variants and paraphrases of stored questions
(found: the top match is the question they came from; hit: found with a score at or above the
cache threshold), near misses and unrelated questions (false hit: any match at or above the
threshold). recall@1 is the share of queries whose top match is the exact scan's (on the same
float16-rounded vectors the index stores), over the answerable queries (variants, paraphrases)
and over all; the exact scan's own found / hit figures are the
embedding's ceiling. `--random-sizes` repeats it on random unit vectors (bench/vector_index.py's
near-duplicates), the worst case for a graph index. Jobs that would overrun `--budget-s` are
skipped, and every row is printed (and appended to `--json`) as soon as it is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.questions import KINDS, Queries, corpus, queries
from bench.vector_index import DIM, fill, near, unit_rows
from switchboard.vectors.hnsw import HnswIndex, HnswOptions

THRESHOLD = 0.86  # the semantic cache's default similarity threshold
NS = "bench"


@dataclass(slots=True)
class Workload:
    data: str  # "MiniLM" or "random"
    rows: np.ndarray  # every stored vector (the largest size)
    queries: np.ndarray  # all query vectors, kind after kind
    kind: list[str]  # per query
    source: np.ndarray  # per query: the entry that should answer, -1 none


class Report:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.started = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def row(self, record: dict[str, object], line: str) -> None:
        print(line, flush=True)
        if self.path is not None:
            with self.path.open("a") as out:
                out.write(json.dumps(record) + "\n")


def exact_top1(rows: np.ndarray, asked: np.ndarray, device: str) -> tuple[np.ndarray, np.ndarray]:
    """The exact nearest entry and its score per query, on float16-rounded vectors as stored."""
    import torch

    table = torch.from_numpy(rows.astype(np.float16).astype(np.float32)).to(device)
    ids, scores = [], []
    for start in range(0, len(asked), 256):
        chunk = asked[start : start + 256].astype(np.float16).astype(np.float32)
        sims = torch.from_numpy(chunk).to(device) @ table.T  # float32, no TF32
        best = sims.max(dim=1)
        ids.append(best.indices.cpu().numpy())
        scores.append(best.values.cpu().numpy())
    return np.concatenate(ids), np.concatenate(scores)


def scan_cpu(rows: np.ndarray, asked: np.ndarray, count: int) -> float:
    """CPU ms per exact scan (one float32 matrix-vector product and an argmax)."""
    count = min(count, len(asked))
    cpu0 = time.process_time()
    for i in range(count):
        int(np.argmax(rows @ asked[i]))
    return (time.process_time() - cpu0) / count * 1e3


def summary(work: Workload, found: np.ndarray, score: np.ndarray) -> dict[str, float]:
    """recall-style shares per kind, for the top ids and scores of one search method."""
    out: dict[str, float] = {}
    kinds = np.array(work.kind)
    for kind in dict.fromkeys(work.kind):
        mask = kinds == kind
        if (work.source[mask] >= 0).all():
            out[f"{kind}_found"] = float(np.mean(found[mask] == work.source[mask]))
            hit = (found[mask] == work.source[mask]) & (score[mask] >= THRESHOLD)
            out[f"{kind}_hit"] = float(np.mean(hit))
        else:
            out[f"{kind}_false_hit"] = float(np.mean(score[mask] >= THRESHOLD))
    return out


# the table's query columns; random vectors' near-duplicates fill the variants' column
COLUMNS = (("variant", "near-duplicate"), ("paraphrase",), ("near-miss",), ("unrelated",))


def cells(stats: dict[str, float]) -> str:
    parts = []
    for names in COLUMNS:
        kind = next((k for k in names if any(s.startswith(k + "_") for s in stats)), None)
        if kind is None:
            parts.append("-")
        elif f"{kind}_found" in stats:
            parts.append(f"{stats[f'{kind}_found']:.3f} / {stats[f'{kind}_hit']:.3f}")
        else:
            parts.append(f"{stats[f'{kind}_false_hit']:.3f}")
    return " | ".join(parts)


async def search_all(index: HnswIndex, asked: np.ndarray) -> tuple[np.ndarray, ...]:
    ids = np.full(len(asked), -1, dtype=np.int64)
    scores = np.full(len(asked), -1.0, dtype=np.float32)
    walls = np.empty(len(asked))
    for i in range(min(50, len(asked))):  # warm-up
        await index.search(NS, asked[i], 1)
    cpu0 = time.process_time()
    for i in range(len(asked)):
        t0 = time.perf_counter()
        matches = await index.search(NS, asked[i], 1)
        walls[i] = time.perf_counter() - t0
        if matches:
            ids[i], scores[i] = int(matches[0].id), matches[0].score
    cpu = (time.process_time() - cpu0) / len(asked) * 1e3
    return ids, scores, walls, np.array(cpu)


async def measure(
    work: Workload, n: int, m: int, args: argparse.Namespace, report: Report, device: str
) -> float:
    """Build one index of the first `n` rows with connectivity `m`, then sweep ef_search;
    returns the build's seconds."""
    rows = work.rows[:n]
    truth, truth_score = exact_top1(rows, work.queries, device)
    label = f"{work.data} | {n:,}"
    if m == args.connectivity[0]:
        exact = summary(work, truth, truth_score)
        cpu = scan_cpu(rows, work.queries, 200 if n <= 100_000 else 20)
        record = {"data": work.data, "n": n, "method": "exact", **exact, "cpu_ms": cpu}
        report.row(record, f"| {label} | exact scan | - | - | 1.000 / 1.000 | {cells(exact)} | "
                   f"- | {cpu:.3f} ms |")  # fmt: skip
    options = HnswOptions(
        dimensions=DIM, max_entries=n, connectivity=m, expansion_add=args.expansion_add
    )
    index = HnswIndex(options)
    build_s = await fill(index, rows, 10_000)
    for ef in args.ef:
        for space in index._spaces.values():  # the bench sweeps ef_search on one built graph
            space.index.expansion_search = ef
        ids, scores, walls, cpu = await search_all(index, work.queries)
        stats = summary(work, ids, scores)
        answerable = work.source >= 0
        recall = float(np.mean(ids[answerable] == truth[answerable]))
        recall_all = float(np.mean(ids == truth))
        p50, p99 = np.percentile(walls, [50, 99]) * 1e3
        record = {"data": work.data, "n": n, "method": "hnsw", "M": m, "ef": ef}
        record |= {"build_s": build_s, "recall": recall, "recall_all": recall_all, **stats}
        record |= {"p50_ms": p50, "p99_ms": p99, "cpu_ms": float(cpu)}
        report.row(record, f"| {label} | M={m}, ef_search {ef} | {build_s:.1f} s | "
                   f"{recall:.3f} / {recall_all:.3f} | {cells(stats)} | {p50:.3f} / {p99:.3f} ms | "
                   f"{float(cpu):.3f} ms |")  # fmt: skip
    await index.aclose()
    return build_s


def real_workload(args: argparse.Namespace, report: Report) -> Workload:
    from bench.minilm_reference import TransformersMiniLM

    stored = corpus(max(args.sizes), seed=args.seed)
    asked: list[Queries] = [
        queries(
            stored, kind, args.queries, within=args.within or min(args.sizes), seed=args.seed + 1
        )
        for kind in KINDS
    ]
    texts = [t for q in asked for t in q.texts]
    print(f"generated {len(stored.texts):,} + {len(texts):,} texts at {report.elapsed():.0f} s")
    half = args.device != "cpu"
    encoder = TransformersMiniLM(args.model, args.device, half=half)
    t0 = time.perf_counter()
    rows = encoder.encode(stored.texts, args.batch)[0]
    vectors = encoder.encode(texts, args.batch)[0]
    took = time.perf_counter() - t0
    print(f"embedded in {took:.1f} s ({args.device}, {'float16' if half else 'float32'})")
    if half:  # how far float16 inference is from the float32 model the gateway runs
        reference = TransformersMiniLM(args.model, args.device, half=False)
        check = reference.encode(texts[:2000], args.batch)[0]
        drift = float(np.max(1 - np.sum(check * vectors[:2000], axis=1)))
        print(f"float16 vs float32 embeddings: max 1 - cosine {drift:.2e}")
    kind = [q.kind for q in asked for _ in q.texts]
    source = np.concatenate([q.source for q in asked])
    return Workload("MiniLM", rows, vectors, kind, source)


def random_workload(size: int, count: int) -> Workload:
    rng = np.random.default_rng(0)
    rows = unit_rows(rng, size)
    picked = rng.integers(0, min(size, 10_000), count)
    asked = np.concatenate([near(rng, rows[picked]), unit_rows(rng, count)])
    source = np.concatenate([picked, np.full(count, -1)])
    kind = ["near-duplicate"] * count + ["unrelated"] * count
    return Workload("random", rows, asked, kind, source)


def jobs(args: argparse.Namespace) -> list[tuple[str, int, int]]:
    """Cheap jobs first: every size at the first connectivity, the others below the largest
    size, random vectors but the largest size, the other connectivities at the largest size,
    the largest random size."""
    first, rest, top = args.connectivity[0], args.connectivity[1:], max(args.sizes)
    order = [("MiniLM", n, first) for n in args.sizes]
    order += [("MiniLM", n, m) for n in args.sizes if n != top for m in rest]
    largest = max(args.random_sizes, default=0)
    order += [("random", n, first) for n in args.random_sizes if n != largest]
    order += [("MiniLM", top, m) for m in rest]
    return order + ([("random", largest, first)] if largest else [])


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ints = lambda s: [int(v) for v in s.split(",") if v]  # noqa: E731
    parser.add_argument("--sizes", type=ints, default=[20_000])
    parser.add_argument("--connectivity", type=ints, default=[16])
    parser.add_argument("--ef", type=ints, default=[32, 64, 128, 256], help="ef_search sweep")
    parser.add_argument("--expansion-add", type=int, default=HnswOptions().expansion_add)
    parser.add_argument("--random-sizes", type=ints, default=[])
    parser.add_argument("--queries", type=int, default=1000, help="per kind")
    parser.add_argument(
        "--within",
        type=int,
        default=0,
        help="queries from the first N entries (default: the smallest size)",
    )
    parser.add_argument("--device", default="cpu", help="torch device for the embeddings")
    parser.add_argument("--model", type=Path, help="model folder (default: the shipped one)")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget-s", type=float, default=0, help="skip jobs past it (0: none)")
    parser.add_argument("--json", type=Path, help="append each row as JSON to this file")
    args = parser.parse_args()
    report = Report(args.json)
    real = real_workload(args, report)
    header = ["data", "entries", "search", "build", "recall@1 answerable / all"]
    header += ["variant found / hit", "paraphrase found / hit", "near-miss false hits"]
    header += ["unrelated false hits", "p50 / p99", "CPU per search"]
    print("\n| " + " | ".join(header) + " |\n|" + " --- |" * len(header))
    rate = 0.0  # build seconds per entry, from the last build
    for data, n, m in jobs(args):
        guess = rate * n * 1.3 * (m / 16) + len(args.ef) * len(real.queries) * 3e-3
        if args.budget_s and report.elapsed() + guess > args.budget_s:
            print(f"| {data} | {n:,} | M={m}: skipped, ~{guess:.0f} s left it over budget |")
            continue
        if data == "MiniLM":
            build_s = await measure(real, n, m, args, report, args.device)
        else:
            work = random_workload(n, args.queries)
            build_s = await measure(work, n, m, args, report, args.device)
        rate = max(rate, build_s / n * 16 / m)
    print(f"done at {report.elapsed():.0f} s", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
