"""The evaluation run: each item through the target (bounded concurrency), then the scores;
one item's failure is recorded as such and does not stop the run."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from switchboard.embeddings.base import Embedder
from switchboard.evaluation import scoring
from switchboard.evaluation.dataset import EvalItem
from switchboard.evaluation.judge import verdict


@dataclass(slots=True)
class TargetAnswer:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    sources: list[str] = field(default_factory=list)  # document ids a RAG answer retrieved


Target = Callable[[EvalItem], Awaitable[TargetAnswer]]
Judge = Callable[[EvalItem, str], Awaitable[str]]  # the judge model's reply text
Progress = Callable[[int, int], Awaitable[None]]


@dataclass(slots=True)
class ItemResult:
    item: EvalItem
    answer: TargetAnswer | None
    latency_s: float
    error: str | None = None
    scores: dict[str, float | None] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        a = self.answer
        return {
            **self.item.as_json(),
            "prediction": a.text if a is not None else None,
            "sources": a.sources if a is not None else [],
            "scores": self.scores,
            "latency_s": round(self.latency_s, 4),
            "usage": None
            if a is None
            else {"prompt_tokens": a.prompt_tokens, "completion_tokens": a.completion_tokens},
            "cost_usd": a.cost_usd if a is not None else 0.0,
            "error": self.error,
        }


class EvalRunner:
    def __init__(
        self,
        target: Target,
        embedder: Embedder | None = None,
        judge: Judge | None = None,
        concurrency: int = 4,
        progress: Progress | None = None,
    ) -> None:
        self._target = target
        self._embedder = embedder
        self._judge = judge
        self._limit = asyncio.Semaphore(max(1, concurrency))
        self._progress = progress

    async def run(self, items: list[EvalItem]) -> list[ItemResult]:
        done = 0

        async def one(item: EvalItem) -> ItemResult:
            nonlocal done
            async with self._limit:
                result = await self._answer(item)
                if result.answer is not None and self._judge is not None:
                    result.scores["judge"] = await self._grade(item, result.answer.text)
            done += 1
            if self._progress is not None:
                await self._progress(done, len(items))
            return result

        results = list(await asyncio.gather(*(one(item) for item in items)))
        await self._score(results)
        return results

    async def _answer(self, item: EvalItem) -> ItemResult:
        started = time.perf_counter()
        try:
            answer = await self._target(item)
        except Exception as exc:  # recorded per item; the run goes on
            message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            return ItemResult(item, None, time.perf_counter() - started, error=message)
        return ItemResult(item, answer, time.perf_counter() - started)

    async def _grade(self, item: EvalItem, answer: str) -> float | None:
        assert self._judge is not None
        try:
            return verdict(await self._judge(item, answer))
        except Exception:
            return None

    async def _score(self, results: list[ItemResult]) -> None:
        answered = [r for r in results if r.answer is not None]
        for r in answered:
            assert r.answer is not None
            text, refs = r.answer.text, r.item.references
            r.scores["exact_match"] = scoring.exact_match(text, refs)
            r.scores["f1"] = scoring.token_f1(text, refs)
            r.scores["contains"] = scoring.contains(text, refs)
            if r.item.document_id is not None and r.answer.sources:
                r.scores["retrieval_hit"] = float(r.item.document_id in r.answer.sources)
        if self._embedder is not None and answered:
            sims = await scoring.similarities(
                self._embedder,
                [r.answer.text for r in answered if r.answer is not None],
                [r.item.references for r in answered],
            )
            for r, sim in zip(answered, sims, strict=True):
                r.scores["similarity"] = round(sim, 6)
