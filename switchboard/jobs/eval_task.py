"""`eval.run` jobs and `switchboard eval`: a dataset through a model or the RAG pipeline with the
caller's key (auth, limits, budget, routing, accounting, as HTTP runs them), optionally graded
by a judge model through the same pipeline, scored by `switchboard.evaluation`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from switchboard.domain import ChatRequest, ChatResponse, Message
from switchboard.evaluation.dataset import EvalItem, item_from
from switchboard.evaluation.judge import judge_messages
from switchboard.evaluation.report import build_report
from switchboard.evaluation.runner import EvalRunner, Judge, Target, TargetAnswer
from switchboard.jobs.context import JobContext
from switchboard.pipeline.context import RequestContext, open_context
from switchboard.pricing import cost_usd
from switchboard.rag.models import tenant_owner
from switchboard.rag.prompt import grounded_request

if TYPE_CHECKING:
    from switchboard.config import Settings
    from switchboard.gateway import Gateway
    from switchboard.jobs.registry import TaskRegistry
    from switchboard.keys.models import ApiKey

EVAL_TASK = "eval.run"


class EvalOptions(BaseModel):
    """What to evaluate: a `model` alone, or the RAG pipeline (`rag`: retrieve from the caller's
    tenant's documents, then that model); `judge_model` grades answers when set."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["model", "rag"] = "model"
    model: str | None = Field(None, max_length=200)
    top_k: int | None = Field(None, ge=1, le=50)
    judge_model: str | None = Field(None, max_length=200)
    max_tokens: int | None = Field(None, ge=1, le=100_000)
    concurrency: int = Field(4, ge=1, le=64)


class EvalPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[dict[str, Any]] = Field(min_length=1, max_length=100_000)
    options: EvalOptions = Field(default_factory=EvalOptions)


async def _chat(gateway: Gateway, key: ApiKey | None, chat: ChatRequest) -> TargetAnswer:
    ctx: RequestContext = open_context("eval", chat, key=key)
    reply = await gateway.pipeline(ctx)
    assert isinstance(reply, ChatResponse)
    usage = reply.usage
    price = ctx.deployment.price if ctx.deployment is not None else None
    return TargetAnswer(
        text=(reply.choices[0].content or "") if reply.choices else "",
        prompt_tokens=usage.prompt_tokens if usage else 0,
        completion_tokens=usage.completion_tokens if usage else 0,
        cost_usd=cost_usd(usage, price) if usage is not None and price is not None else 0.0,
    )


def model_target(gateway: Gateway, key: ApiKey | None, options: EvalOptions) -> Target:
    model = options.model or gateway.default_model

    async def ask(item: EvalItem) -> TargetAnswer:
        chat = ChatRequest(
            model=model,
            messages=[Message("user", item.question)],
            max_tokens=options.max_tokens,
            temperature=0.0,
        )
        return await _chat(gateway, key, chat)

    return ask


def rag_target(gateway: Gateway, key: ApiKey | None, options: EvalOptions) -> Target:
    model = options.model or gateway.default_model
    owner = tenant_owner(key.tenant if key is not None else None)

    async def ask(item: EvalItem) -> TargetAnswer:
        assert gateway.rag is not None
        services = (await gateway.rag.get()).services
        sources = await services.retriever.search(
            owner, item.question, options.top_k or services.top_k
        )
        chat = grounded_request(
            model, item.question, sources, stream=False, max_tokens=options.max_tokens
        )
        chat.temperature = 0.0
        answer = await _chat(gateway, key, chat)
        answer.sources = list(dict.fromkeys(s.document_id for s in sources))
        return answer

    return ask


def judge_with(gateway: Gateway, key: ApiKey | None, model: str) -> Judge:
    async def grade(item: EvalItem, answer: str) -> str:
        chat = ChatRequest(
            model=model,
            messages=judge_messages(item.question, item.references, answer),
            max_tokens=8,
            temperature=0.0,
        )
        return (await _chat(gateway, key, chat)).text

    return grade


async def evaluate(
    gateway: Gateway,
    key: ApiKey | None,
    items: list[EvalItem],
    options: EvalOptions,
    progress: Callable[[int, int], Awaitable[None]] | None = None,
) -> dict[str, Any]:
    """The whole run, in this process; the report as JSON-ready data."""
    build = rag_target if options.kind == "rag" else model_target
    judge = judge_with(gateway, key, options.judge_model) if options.judge_model else None
    runner = EvalRunner(
        build(gateway, key, options), gateway.embedder, judge, options.concurrency, progress
    )
    results = await runner.run(items)
    target = {
        "kind": options.kind,
        "model": options.model or gateway.default_model,
        "top_k": options.top_k if options.kind == "rag" else None,
        "judge_model": options.judge_model,
    }
    return build_report(results, target)


async def run_eval(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """`payload` is an EvalPayload (from `switchboard eval`), or holds one in `body` (the
    `input` of `POST /v1/tasks`)."""
    body = EvalPayload.model_validate(payload.get("body", payload))
    items = [item_from(row, i) for i, row in enumerate(body.items, 1)]

    async def progress(done: int, total: int) -> None:
        await ctx.progress(100.0 * done / total)

    return await evaluate(ctx.gateway, await ctx.key(), items, body.options, progress)


def install(registry: TaskRegistry, settings: Settings) -> None:
    registry.add(
        EVAL_TASK, run_eval, max_attempts=2, soft_limit_s=3600.0, hard_limit_s=3660.0, public=True
    )
