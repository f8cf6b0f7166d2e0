"""Evaluate the committed query-complexity classifier on the held-out split.

Reports accuracy, per-tier precision/recall, the confusion matrix, classification latency, and
what routing by tier would save against sending every query to the strongest tier.

    python bench/routing_eval.py
    python bench/routing_eval.py --json routing_eval.json
    python bench/routing_eval.py --embedding   # and the embedding router, side by side

Cost model (stated, not measured): USD per 1M tokens, input/output, for one model per tier,
typical list prices of small / mid / frontier models:
    simple    $0.15 / $0.60   (a gpt-4o-mini-class model)
    moderate  $0.80 / $4.00   (a claude-3.5-haiku-class model)
    complex   $3.00 / $15.00  (a claude-sonnet-class model)
Prompt tokens ~= characters / 4. Completion tokens depend on the task, not the model that
answers it, so they follow the query's *true* tier: 60 (simple), 400 (moderate), 1,200
(complex). A misrouted query is charged at the tier it was sent to; sending a harder query to a
cheaper tier saves money but counts as a quality miss, reported separately.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path
from typing import Any

from switchboard.domain import Message
from switchboard.routing.complexity import TIERS, ComplexityClassifier, Tier

DATA = Path(__file__).resolve().parents[1] / "switchboard/routing/data/complexity_queries.jsonl"
PRICES: dict[Tier, tuple[float, float]] = {  # USD per 1M tokens: input, output
    Tier.SIMPLE: (0.15, 0.60),
    Tier.MODERATE: (0.80, 4.00),
    Tier.COMPLEX: (3.00, 15.00),
}
COMPLETION_TOKENS = {Tier.SIMPLE: 60, Tier.MODERATE: 400, Tier.COMPLEX: 1200}
PRODUCTION_MIX = {Tier.SIMPLE: 0.50, Tier.MODERATE: 0.35, Tier.COMPLEX: 0.15}  # assumed traffic
LATENCY_CALLS = 5000
HUGE_CHARS = 200_000


def load_test(path: Path) -> list[tuple[str, Tier]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [(r["text"], Tier(r["tier"])) for r in rows if r["split"] == "test"]


def cost(text: str, true: Tier, routed: Tier) -> float:
    price_in, price_out = PRICES[routed]
    return (len(text) / 4 * price_in + COMPLETION_TOKENS[true] * price_out) / 1_000_000


def quality(pairs: list[tuple[Tier, Tier]]) -> dict[str, Any]:
    """Accuracy, confusion matrix (rows: true tier, columns: predicted) and per-tier P/R."""
    matrix = {t: {p: 0 for p in TIERS} for t in TIERS}
    for true, pred in pairs:
        matrix[true][pred] += 1
    per_tier = {}
    for t in TIERS:
        predicted = sum(matrix[o][t] for o in TIERS)
        actual = sum(matrix[t].values())
        per_tier[t.value] = {
            "precision": matrix[t][t] / predicted if predicted else 0.0,
            "recall": matrix[t][t] / actual if actual else 0.0,
            "support": actual,
        }
    return {
        "n": len(pairs),
        "accuracy": sum(matrix[t][t] for t in TIERS) / len(pairs),
        "per_tier": per_tier,
        "confusion": {t.value: {p.value: matrix[t][p] for p in TIERS} for t in TIERS},
    }


def savings(test: list[tuple[str, Tier]], preds: list[Tier]) -> dict[str, Any]:
    routed = [cost(text, true, pred) for (text, true), pred in zip(test, preds, strict=True)]
    oracle = [cost(text, true, true) for text, true in test]
    strongest = [cost(text, true, Tier.COMPLEX) for text, true in test]
    rank = {t: i for i, t in enumerate(TIERS)}
    complex_n = sum(1 for _, true in test if true is Tier.COMPLEX)
    under = [p for (_, true), p in zip(test, preds, strict=True) if rank[p] < rank[true]]
    over = [p for (_, true), p in zip(test, preds, strict=True) if rank[p] > rank[true]]
    c_to_s = sum(
        1 for (_, t), p in zip(test, preds, strict=True) if t is Tier.COMPLEX and p is Tier.SIMPLE
    )

    def mixed(costs: list[float]) -> float:
        """Cost per query if true tiers came in PRODUCTION_MIX proportions."""
        by_tier = {
            t: [c for c, (_, true) in zip(costs, test, strict=True) if true is t] for t in TIERS
        }
        return sum(PRODUCTION_MIX[t] * statistics.fmean(by_tier[t]) for t in TIERS)

    return {
        "usd_all_strongest": sum(strongest),
        "usd_routed": sum(routed),
        "usd_oracle": sum(oracle),
        "saving_vs_strongest": 1 - sum(routed) / sum(strongest),
        "oracle_saving_vs_strongest": 1 - sum(oracle) / sum(strongest),
        "saving_vs_strongest_production_mix": 1 - mixed(routed) / mixed(strongest),
        "under_routed_rate": len(under) / len(test),
        "over_routed_rate": len(over) / len(test),
        "complex_to_simple": c_to_s,
        "complex_to_simple_rate": c_to_s / complex_n if complex_n else 0.0,
    }


def latency(clf: ComplexityClassifier, chats: list[list[Message]]) -> dict[str, float]:
    """Per-call wall time of classify(), in microseconds, cycling through the test chats."""
    for chat in chats[:200]:
        clf.classify(chat)
    samples = []
    for i in range(LATENCY_CALLS):
        chat = chats[i % len(chats)]
        start = time.perf_counter_ns()
        clf.classify(chat)
        samples.append((time.perf_counter_ns() - start) / 1000)
    huge = [
        Message(
            "user",
            "please review this log and find the root cause:\n" + "x = 1 " * (HUGE_CHARS // 6),
        )
    ]
    huge_samples = []
    for _ in range(50):
        start = time.perf_counter_ns()
        clf.classify(huge)
        huge_samples.append((time.perf_counter_ns() - start) / 1000)
    samples.sort()
    return {
        "calls": LATENCY_CALLS,
        "p50_us": samples[len(samples) // 2],
        "p99_us": samples[int(len(samples) * 0.99)],
        "max_us": samples[-1],
        "huge_message_chars": HUGE_CHARS,
        "huge_message_p50_us": statistics.median(huge_samples),
    }


def report(result: dict[str, Any]) -> None:
    q, s, lat = result["quality"], result["cost"], result["latency"]
    print(f"held-out queries: {q['n']}   accuracy: {q['accuracy']:.3f}")
    print(f"{'tier':<10}{'precision':>10}{'recall':>8}{'n':>5}")
    for tier, m in q["per_tier"].items():
        print(f"{tier:<10}{m['precision']:>10.3f}{m['recall']:>8.3f}{m['support']:>5}")
    print("confusion (rows: true, columns: predicted)")
    print(" " * 10 + "".join(f"{t.value:>10}" for t in TIERS))
    for tier, row in q["confusion"].items():
        print(f"{tier:<10}" + "".join(f"{row[t.value]:>10}" for t in TIERS))
    print(
        f"latency over {lat['calls']} classifications: p50 {lat['p50_us']:.0f} us, "
        f"p99 {lat['p99_us']:.0f} us; a {lat['huge_message_chars']:,}-char message: "
        f"p50 {lat['huge_message_p50_us']:.0f} us"
    )
    print(
        f"cost on the test set: all-strongest ${s['usd_all_strongest']:.4f}, routed "
        f"${s['usd_routed']:.4f}, perfect router ${s['usd_oracle']:.4f}"
    )
    print(
        f"saving vs all-strongest: {s['saving_vs_strongest']:.1%} (perfect router "
        f"{s['oracle_saving_vs_strongest']:.1%}); with a 50/35/15 simple/moderate/complex "
        f"traffic mix: {s['saving_vs_strongest_production_mix']:.1%}"
    )
    print(
        f"quality misses: under-routed {s['under_routed_rate']:.1%} of queries; "
        f"complex->simple {s['complex_to_simple']} ({s['complex_to_simple_rate']:.1%} of complex); "
        f"over-routed (cost only) {s['over_routed_rate']:.1%}"
    )


async def embedding_side_by_side(
    test: list[tuple[str, Tier]], feature_preds: list[Tier], feature: dict[str, Any]
) -> dict[str, Any]:
    """The embedding router on the same split: quality, and classify() latency with a cold
    embedding (each text embedded for the first time; the L3 cache would make repeats free)."""
    from switchboard.embeddings.local import LocalEmbedder
    from switchboard.routing.embedding_router import EmbeddingComplexityClassifier

    embedder = LocalEmbedder()
    try:
        await embedder.ready()
        clf = EmbeddingComplexityClassifier.load(embedder)
        preds, times = [], []
        for text, _ in test:
            start = time.perf_counter_ns()
            preds.append(await clf.classify([Message("user", text)]))
            times.append((time.perf_counter_ns() - start) / 1000)
    finally:
        await embedder.aclose()
    times.sort()
    pairs = [(true, pred) for (_, true), pred in zip(test, preds, strict=True)]
    result = {
        "quality": quality(pairs),
        "cost": savings(test, preds),
        "latency": {"p50_us": times[len(times) // 2], "p99_us": times[int(len(times) * 0.99)]},
    }
    rows = [("features (default)", feature), ("embedding + features", result)]
    print("\nside by side on the held-out split")
    print(
        f"{'classifier':<22}{'accuracy':>9}{'complex->simple':>17}{'under-routed':>14}"
        f"{'p50':>11}{'p99':>11}"
    )
    for name, r in rows:
        q, c, lat = r["quality"], r["cost"], r["latency"]
        print(
            f"{name:<22}{q['accuracy']:>9.3f}{c['complex_to_simple']:>17}"
            f"{c['under_routed_rate']:>14.1%}{lat['p50_us']:>9.0f}us{lat['p99_us']:>9.0f}us"
        )
    agree = sum(a is b for a, b in zip(feature_preds, preds, strict=True)) / len(preds)
    print(f"the two agree on {agree:.1%} of queries")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--model", type=Path, default=None, help="default: the committed model")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument(
        "--embedding", action="store_true", help="also the embedding router, side by side"
    )
    args = parser.parse_args()

    clf = ComplexityClassifier.load(args.model)
    test = load_test(args.data)
    chats = [[Message("user", text)] for text, _ in test]
    preds = [clf.classify(chat) for chat in chats]
    result = {
        "quality": quality([(true, pred) for (_, true), pred in zip(test, preds, strict=True)]),
        "cost": savings(test, preds),
        "latency": latency(clf, chats),
        "assumptions": {
            "usd_per_1m_tokens_in_out": {t.value: PRICES[t] for t in TIERS},
            "completion_tokens_by_true_tier": {t.value: COMPLETION_TOKENS[t] for t in TIERS},
            "prompt_tokens": "characters / 4",
            "production_mix": {t.value: PRODUCTION_MIX[t] for t in TIERS},
        },
    }
    report(result)
    if args.embedding:
        result["embedding"] = asyncio.run(embedding_side_by_side(test, preds, result))
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
