"""How often the semantic cache answers a true paraphrase, and how often it answers wrongly.

Run from the repository root (loads the shipped MiniLM; about half a minute on 2 cores):

    python -m bench.cache_eval                 # the sweep, per-kind false hits, guard cost
    python -m bench.cache_eval --json out.json
    python -m bench.cache_eval --embedder static   # the token table distilled from MiniLM
    python -m bench.cache_eval --embedder minilm-transformers  # MiniLM's previous forward pass

The labeled pairs (bench/data/cache_pairs_*.tsv, written for this project; bench/cache_pairs.py
says which may tune what): true paraphrases, and hard negatives that differ by negation, a
number, an entity, a unit, a date, an opposite verb, a comparison's direction, or the
conversation before the same last message. For each pair, B is looked up against A's entry
with the cache's own decision: same context key, cosine similarity of the normalised questions
(cache/normalize.py) >= threshold, and (with the guard) no difference the guard sees. The
threshold is chosen on the tuning set alone (CHOOSE_HITS), reported on the test set with 95%
bounds, and replayed through the real ReplyCache (HNSW index, reply store) to check the sweep
describes what it does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.cache_pairs import Pair, load_test, load_tuning
from bench.minilm_reference import ReferenceEmbedder
from bench.previous_guard.guard import differs as previous_differs
from switchboard.cache.entry import CachedReply
from switchboard.cache.guard import differs
from switchboard.cache.keys import RequestKeys, request_keys
from switchboard.cache.normalize import for_embedding
from switchboard.cache.reply_cache import ReplyCache
from switchboard.cache.semantic import SemanticLayer
from switchboard.cache.store import InMemoryReplyStore
from switchboard.catalogue import CacheConfig, Catalogue
from switchboard.domain import ChatRequest, ChatResponse, Choice, Message
from switchboard.embeddings.base import Embedder
from switchboard.embeddings.local import LocalEmbedder
from switchboard.embeddings.static import StaticEmbedder
from switchboard.vectors.hnsw import HnswIndex, HnswOptions

THRESHOLDS = [round(0.70 + 0.01 * i, 2) for i in range(28)]  # 0.70 .. 0.97
GOAL_FALSE, GOAL_HITS = 0.01, 0.70
# The rule that picks the default, fixed before the third held-out set was written and kept,
# unchanged, before the fourth: the highest threshold with at least 82% paraphrase hits on the
# tuning set (guard on) within the false-hit goal there. 82% = the 70% goal plus 12 points, the
# drop seen from the tuning set (75.0%) to the second held-out set (63.3%) at the default of
# then: a tuning-set hit rate is optimistic. Since the fourth set, the tuning set holds the
# third held-out set too (whose paraphrases vary more), so the same rule reads harder pairs.
CHOOSE_HITS = 0.82
# The method before the fourth held-out set (guard as frozen for the third, default 0.83),
# measured on the new set in the same run for comparison (bench/previous_guard/).
PREVIOUS_THRESHOLD = 0.83
MODEL = "eval"


def _keys(messages: list[Message]) -> RequestKeys:
    return request_keys(MODEL, ChatRequest(MODEL, messages, temperature=0))


@dataclass(slots=True)
class Scored:
    pair: Pair
    similarity: float
    same_context: bool
    guard: str | None  # the guard's reason to refuse, None when it lets the pair through
    previous: str | None  # the same from the guard frozen for the third held-out set

    def hit(self, threshold: float, guard: bool) -> bool:
        passes = self.guard is None or not guard
        return self.same_context and self.similarity >= threshold and passes

    def previous_hit(self, threshold: float) -> bool:
        return self.same_context and self.similarity >= threshold and self.previous is None


async def score(pairs: list[Pair], embedder: Embedder) -> list[Scored]:
    keys = [(_keys(p.a), _keys(p.b)) for p in pairs]
    texts = [for_embedding(t) for ka, kb in keys for t in (ka.query or "", kb.query or "")]
    vectors = await embedder.embed(texts)
    out = []
    for i, (pair, (ka, kb)) in enumerate(zip(pairs, keys, strict=True)):
        similarity = float(np.dot(vectors[2 * i], vectors[2 * i + 1]))
        reason = differs(kb.query or "", ka.query or "")
        previous = previous_differs(kb.query or "", ka.query or "")
        out.append(Scored(pair, similarity, ka.context == kb.context, reason, previous))
    return out


def sweep(scored: list[Scored]) -> list[dict[str, Any]]:
    pos = [s for s in scored if s.pair.positive]
    neg = [s for s in scored if not s.pair.positive]
    rows = []
    for t in THRESHOLDS:
        row: dict[str, Any] = {"threshold": t}
        for guard in (False, True):
            tag = "guard" if guard else "plain"
            row[f"hits_{tag}"] = sum(s.hit(t, guard) for s in pos) / len(pos)
            row[f"false_{tag}"] = sum(s.hit(t, guard) for s in neg) / len(neg)
        rows.append(row)
    return rows


def choose(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The highest threshold that still answers CHOOSE_HITS of paraphrases with the guard,
    within the false-hit goal: the guard catches the differences it knows, the threshold's
    margin is for the ones it does not (failing that, the fewest false hits)."""
    ok = [r for r in rows if r["false_guard"] <= GOAL_FALSE and r["hits_guard"] >= CHOOSE_HITS]
    return ok[-1] if ok else min(rows, key=lambda r: (r["false_guard"], -r["hits_guard"]))


def by_kind(scored: list[Scored], threshold: float) -> dict[str, dict[str, float]]:
    kinds: dict[str, list[Scored]] = {}
    for s in scored:
        kinds.setdefault(s.pair.kind, []).append(s)
    return {
        kind: {
            "pairs": len(items),
            "hit_plain": sum(s.hit(threshold, False) for s in items) / len(items),
            "hit_guard": sum(s.hit(threshold, True) for s in items) / len(items),
            "median_similarity": statistics.median(s.similarity for s in items),
        }
        for kind, items in sorted(kinds.items())
    }


def guard_cost(pairs: list[Pair], rounds: int = 20) -> float:
    """Microseconds per pair checked (both questions' features and the comparison)."""
    texts = [(p.b[-1].text(), p.a[-1].text()) for p in pairs]
    started = time.process_time()
    for _ in range(rounds):
        for b, a in texts:
            differs(b, a)
    return (time.process_time() - started) / (rounds * len(texts)) * 1e6


async def replay(pairs: list[Pair], embedder: Embedder, threshold: float) -> dict[str, int]:
    """The chosen threshold through the real ReplyCache: A stored, B looked up (each pair in a
    scope of its own); counts hits by label."""
    policy = CacheConfig(layers=["exact", "semantic"], threshold=threshold)
    catalogue = Catalogue.model_validate(
        {"models": [{"name": MODEL, "deployments": [{"provider": "local", "model": "x"}]}]}
    )
    index = HnswIndex(HnswOptions(dimensions=embedder.dimensions))
    semantic = SemanticLayer(embedder, index)
    cache = ReplyCache(catalogue, InMemoryReplyStore(10_000, 1 << 28), semantic)
    counts = {"paraphrase_hits": 0, "negative_hits": 0}
    for i, pair in enumerate(pairs):
        ka, kb = _keys(pair.a), _keys(pair.b)
        reply = ChatResponse("x", 0, MODEL, [Choice(0, "answer", "stop")])
        cache.keep(f"pair{i}", ka, policy, CachedReply(reply, MODEL, ka.context, ka.query))
        await cache.drain()
        if await cache.lookup(f"pair{i}", MODEL, kb, policy) is not None:
            counts["paraphrase_hits" if pair.positive else "negative_hits"] += 1
    await index.aclose()
    return counts


async def embed_cost(embedder: Embedder, texts: list[str]) -> float:
    """Microseconds of CPU per text embedded alone (as a cache lookup does), warm."""
    await embedder.embed(texts[:4])
    started = time.process_time()
    for text in texts:
        await embedder.embed([text])
    return (time.process_time() - started) / len(texts) * 1e6


def _table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| threshold | paraphrases hit | false hits | paraphrases hit + guard "
        "| false hits + guard |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['threshold']:.2f} | {r['hits_plain']:.1%} | {r['false_plain']:.1%} "
            f"| {r['hits_guard']:.1%} | {r['false_guard']:.1%} |"
        )
    return "\n".join(lines)


def _report(name: str, pairs: list[Pair], scored: list[Scored], t: float) -> dict[str, Any]:
    rows = sweep(scored)
    at = next(r for r in rows if r["threshold"] == t)
    positives = sum(p.positive for p in pairs)
    print(
        f"\n## {name}: {len(pairs)} pairs, {positives} paraphrases, "
        f"{len(pairs) - positives} hard negatives"
    )
    print(_table(rows))
    print(
        f"at {t:.2f}: {at['hits_guard']:.1%} of paraphrases hit, {at['false_guard']:.1%} "
        f"false hits with the guard ({at['hits_plain']:.1%} / {at['false_plain']:.1%} without)"
    )
    kinds = by_kind(scored, t)
    for kind, v in kinds.items():
        print(
            f"  {kind:11} n={v['pairs']:3}  hit {v['hit_plain']:.1%} -> {v['hit_guard']:.1%} "
            f"with guard  (median similarity {v['median_similarity']:.3f})"
        )
    return {"pairs": len(pairs), "paraphrases": positives, "sweep": rows, "at_default": at,
            "by_kind": kinds}  # fmt: skip


def _previous(scored: list[Scored]) -> dict[str, Any]:
    """The method before this round (its guard, PREVIOUS_THRESHOLD) on the same pairs."""
    pos = [s for s in scored if s.pair.positive]
    neg = [s for s in scored if not s.pair.positive]
    hits = sum(s.previous_hit(PREVIOUS_THRESHOLD) for s in pos)
    false = sum(s.previous_hit(PREVIOUS_THRESHOLD) for s in neg)
    out = {
        "threshold": PREVIOUS_THRESHOLD, "hits": hits, "paraphrases": len(pos),
        "false_hits": false, "negatives": len(neg),
        "hits_lower_95": wilson(hits, len(pos))[0], "false_upper_95": wilson(false, len(neg))[1],
    }  # fmt: skip
    print(
        f"  previous method (guard frozen for the third set, {PREVIOUS_THRESHOLD:.2f}): "
        f"{hits}/{len(pos)} paraphrases hit ({hits / len(pos):.1%}, 95% lower bound "
        f"{out['hits_lower_95']:.1%}), {false}/{len(neg)} false hits ({false / len(neg):.1%}, "
        f"95% upper bound {out['false_upper_95']:.2%})"
    )
    return out


def _misses(scored: list[Scored], threshold: float) -> None:
    """The default's errors on a set, one a line: false hits and paraphrases the guard refused."""
    for s in scored:
        wrong = not s.pair.positive and s.hit(threshold, True)
        refused = s.pair.positive and s.hit(threshold, False) and not s.hit(threshold, True)
        if wrong or refused:
            what = "false hit" if wrong else f"refused ({s.guard})"
            print(f"  {what} at {s.similarity:.3f}: {s.pair.a[-1].text()!r} / "
                  f"{s.pair.b[-1].text()!r}")  # fmt: skip


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a rate seen k times in n."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _bounds(report: dict[str, Any]) -> dict[str, Any]:
    """The default's rates on a set as counts, with 95% bounds: the false-hit rate's upper
    bound (Wilson; and the rule of three, 3/n, when none was seen) and the hit rate's lower."""
    at, positives = report["at_default"], report["paraphrases"]
    negatives = report["pairs"] - positives
    hits, false = round(at["hits_guard"] * positives), round(at["false_guard"] * negatives)
    out = {
        "hits": hits, "paraphrases": positives, "false_hits": false, "negatives": negatives,
        "hits_lower_95": wilson(hits, positives)[0],
        "false_upper_95": wilson(false, negatives)[1],
        "false_upper_rule_of_three": 3 / negatives if false == 0 and negatives else None,
    }  # fmt: skip
    three = out["false_upper_rule_of_three"]
    print(
        f"  {hits}/{positives} paraphrases hit (95% lower bound {out['hits_lower_95']:.1%}), "
        f"{false}/{negatives} false hits (95% upper bound {out['false_upper_95']:.2%} Wilson"
        + (f", {three:.2%} rule of three)" if three is not None else ")")
    )
    return out


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    tuning, test = load_tuning(), load_test()
    result: dict[str, Any] = {}
    embedder: Embedder
    if args.embedder == "static":
        embedder = StaticEmbedder()  # its similarities run lower: sweep from 0.60
        THRESHOLDS[:0] = [round(0.60 + 0.01 * i, 2) for i in range(20)]
    elif args.embedder == "minilm-transformers":
        embedder = ReferenceEmbedder()
    else:
        precision = args.embedder.removeprefix("minilm").removeprefix("-") or "auto"
        local = LocalEmbedder(precision=precision)
        local.start_loading()
        await local.ready()
        embedder = local
    result["embedder"] = f"{embedder.name} ({args.embedder})"
    texts = [p.b[-1].text() for p in (test or tuning)[:100]]
    result["embed_us_per_text"] = await embed_cost(embedder, texts)
    scored_tuning = await score(tuning, embedder)
    chosen = choose(sweep(scored_tuning))
    t = chosen["threshold"]
    result["default_threshold"] = t
    name = "tuning set (first set + three spent held-out sets; the method was built on it)"
    result["tuning"] = _report(name, tuning, scored_tuning, t)
    result["tuning"]["bounds"] = _bounds(result["tuning"])
    if test:
        name = "test set (fourth held-out set, never used to change anything)"
        scored_test = await score(test, embedder)
        result["test"] = _report(name, test, scored_test, t)
        result["test"]["bounds"] = _bounds(result["test"])
        result["test"]["previous_method"] = _previous(scored_test)
        _misses(scored_test, t)
    every = tuning + test
    result["guard_us_per_pair"] = guard_cost(every)
    result["real_cache_at_default"] = await replay(every, embedder, t)
    await embedder.aclose()
    print(
        f"\ndefault threshold {t:.2f} (highest with >= {CHOOSE_HITS:.0%} paraphrase hits "
        f"within {GOAL_FALSE:.0%} false hits on the tuning set, guard on)"
    )
    if test:
        at = result["test"]["at_default"]
        met = at["false_guard"] <= GOAL_FALSE and at["hits_guard"] >= GOAL_HITS
        result["goal_met_on_test"] = met
        print(
            f"goal (>= {GOAL_HITS:.0%} hits, <= {GOAL_FALSE:.0%} false) met on the test set: {met}"
        )
    print(f"guard: {result['guard_us_per_pair']:.1f} us CPU per pair")
    print(f"{embedder.name}: {result['embed_us_per_text']:.0f} us CPU per text, one at a time")
    print(f"real ReplyCache at {t:.2f}, all pairs: {result['real_cache_at_default']}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the results here too")
    parser.add_argument(
        "--embedder",
        choices=["minilm", "minilm-bf16", "minilm-fp32", "minilm-transformers", "static"],
        default="minilm",
        help="minilm: the shipped default (precision auto); minilm-transformers: the reference",
    )
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
