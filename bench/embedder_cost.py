"""What one MiniLM embedding costs, per forward-pass engine, measured in one process:
the transformers reference (the previous path), the lean encoder in float32, and in bfloat16.

Run from the repository root (loads the model three times; ~1 min on 2 cores):

    python -m bench.embedder_cost
    python -m bench.embedder_cost --rounds 3 --json out.json
    python -m bench.embedder_cost --tokens 256 --texts 50   # long texts (words, cut at 256)

Texts: the last user messages of the cache pairs (bench/data), as a cache lookup embeds them.
Engines are measured round-robin (`--rounds`), so drifting background load hits all alike; the
median round stands. CPU time is the thread's own (the embedder runs on one worker thread).
Agreement: cosine of each engine's vector with the reference's, min and median over the texts.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from bench.cache_pairs import load_test, load_tuning
from bench.minilm_reference import TransformersMiniLM
from switchboard.embeddings.base import Vectors
from switchboard.embeddings.local import MiniLM, default_threads, locate_model


class Engine(Protocol):
    precision: str

    def encode(self, texts: list[str], chunk: int = 32) -> tuple[Vectors, list[int]]: ...


def _texts() -> list[str]:
    pairs = load_tuning() + load_test()
    return sorted({conv[-1].text() for p in pairs for conv in (p.a, p.b)})


def _single(engine: Engine, texts: list[str]) -> dict[str, float]:
    wall = []
    cpu0 = time.thread_time()
    for text in texts:
        started = time.perf_counter()
        engine.encode([text])
        wall.append((time.perf_counter() - started) * 1000)
    cpu = (time.thread_time() - cpu0) / len(texts) * 1000
    wall.sort()
    return {"p50_ms": wall[len(wall) // 2], "p99_ms": wall[int(0.99 * (len(wall) - 1))],
            "cpu_ms": cpu}  # fmt: skip


def _batch(engine: Engine, texts: list[str]) -> float:
    """CPU ms per text over batches of 64."""
    cpu0 = time.thread_time()
    for start in range(0, len(texts), 64):
        engine.encode(texts[start : start + 64])
    return (time.thread_time() - cpu0) / len(texts) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--texts", type=int, default=200, help="texts timed one at a time")
    parser.add_argument("--threads", type=int, default=0, help="torch threads; 0 = the default")
    parser.add_argument("--tokens", type=int, default=0, help="time texts of ~N tokens instead")
    parser.add_argument("--json", help="write the results here too")
    args = parser.parse_args()
    threads = args.threads or default_threads()
    path = locate_model()
    engines: list[Engine] = [TransformersMiniLM(path)]
    for precision in ("fp32", "bf16"):
        engine = MiniLM(path, threads, precision)
        if engine.precision == precision:
            engines.append(engine)
    texts = _texts()
    timed = texts[:: max(1, len(texts) // args.texts)][: args.texts]
    if args.tokens:  # distinct words, so each text is its own: ~1 token a word, 2 added
        words = " ".join(texts).split()
        timed = [" ".join(words[i : i + args.tokens - 2]) for i in range(args.texts)]
    tokens = engines[0].encode(timed)[1]
    for engine in engines:  # warm
        engine.encode(timed[:8])
    runs: dict[str, list[dict[str, float]]] = {e.precision: [] for e in engines}
    for _ in range(args.rounds):
        for engine in engines:
            row = _single(engine, timed)
            row["batch64_cpu_ms_per_text"] = _batch(engine, timed)
            runs[engine.precision].append(row)
    reference = engines[0].encode(texts)[0]
    result: dict[str, Any] = {
        "threads": threads,
        "texts": len(texts),
        "tokens_median": statistics.median(tokens),
        "tokens_max": max(tokens),
        "engines": {},
    }
    for engine in engines:
        found = sorted(runs[engine.precision], key=lambda r: r["cpu_ms"])
        row = dict(found[(len(found) - 1) // 2])
        row["cpu_ms_runs"] = [round(r["cpu_ms"], 3) for r in runs[engine.precision]]
        cos = np.sum(engine.encode(texts)[0] * reference, axis=1)
        row["cos_min"], row["cos_median"] = float(cos.min()), float(np.median(cos))
        result["engines"][engine.precision] = row
    result["load_average"] = os.getloadavg()
    base = result["engines"]["transformers"]["cpu_ms"]
    print(f"{len(timed)} texts one at a time (tokens median {result['tokens_median']}, max "
          f"{result['tokens_max']}), torch threads {threads}, median of {args.rounds} rounds; "
          f"agreement over {len(texts)} cache-pair texts:")  # fmt: skip
    print("| engine | p50 | p99 | CPU / text | vs reference | batch of 64: CPU / text "
          "| cosine to reference min / median |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, row in result["engines"].items():
        print(
            f"| {name} | {row['p50_ms']:.2f} ms | {row['p99_ms']:.2f} ms | {row['cpu_ms']:.2f} ms "
            f"(runs {row['cpu_ms_runs']}) | {base / row['cpu_ms']:.2f}x | "
            f"{row['batch64_cpu_ms_per_text']:.2f} ms | {row['cos_min']:.6f} / "
            f"{row['cos_median']:.6f} |"
        )
    print(f"load average: {result['load_average']}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
