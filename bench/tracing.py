"""What tracing costs per request: off (the default), and on (OpenTelemetry SDK spans).

    python -m bench.tracing            # about 20 s
    python -m bench.tracing --json bench/results/tracing.json

In-process and CPU time only (the machine is shared and noisy): the real record stage and the
stage wrappers around six no-op stages, the last of which starts an upstream attempt the way
the transport does, so "on" makes the spans a real request makes (1 request + 6 stages + 1
attempt). Three figures, each the best of `--repeat` runs of `--requests` requests:
  - off: the chain with tracing off; the work tracing added to the off path is measured alone
    (the caller-tag reads in the middleware and the record stage): target < 10 us/request;
  - on: the same chain exporting to a BatchSpanProcessor with an exporter that drops spans;
  - on / off: the ratio, measured in the same run;
and the CPU per request of the SLO tracker (one objective) and of the GenAI metrics.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from prometheus_client import CollectorRegistry

from switchboard.catalogue import SloConfig
from switchboard.domain import ChatRequest, ChatResponse, Message, Reply, Usage
from switchboard.observability.events import EventBus, RequestFinished
from switchboard.observability.genai_metrics import GenAiMetrics
from switchboard.observability.slo import DEFAULT_TARGETS, SloTracker
from switchboard.observability.spans import Tracing
from switchboard.observability.trace import CallerTags, current_request
from switchboard.pipeline.build import chain
from switchboard.pipeline.context import RequestContext, open_context
from switchboard.pipeline.record import RecordStage, _caller
from switchboard.pipeline.stage import Next

HEADERS = [
    (b"host", b"127.0.0.1:8000"),
    (b"user-agent", b"OpenAI/Python 1.54.0"),
    (b"accept", b"application/json"),
    (b"content-type", b"application/json"),
    (b"authorization", b"Bearer sk-sb-0123456789abcdef"),
    (b"x-stainless-lang", b"python"),
    (b"x-stainless-os", b"Linux"),
    (b"x-stainless-runtime", b"CPython"),
    (b"content-length", b"96"),
    (b"accept-encoding", b"gzip, deflate"),
    (b"connection", b"keep-alive"),
    (b"x-request-id", b"bench-request"),
]


class DropSpans(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


class Pass:
    """A stage that does nothing but call the next one (stands in for auth, limits, ...)."""

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Reply:
        return await call_next(ctx)


class Answer:
    """The call stage's stand-in: one upstream attempt (its span and headers), then a reply."""

    def __init__(self) -> None:
        self.reply = ChatResponse(id="x", created=0, model="m", choices=[], usage=Usage(10, 20))

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Reply:
        trace = current_request.get()
        if trace is not None:
            trace.attempt("bench-deployment")
        ctx.usage = Usage(10, 20)
        return self.reply


def _pipeline(tracing: Tracing | None) -> Next:
    stages: list[Any] = [RecordStage(EventBus(), tracing), *[Pass() for _ in range(5)], Answer()]
    return chain(stages, tracing)


def _request() -> ChatRequest:
    return ChatRequest(model="m", messages=[Message(role="user", content="hi")])


async def _run(pipeline: Next, n: int) -> float:
    request = _request()
    started = time.process_time()
    for _ in range(n):
        await pipeline(open_context("chat.completions", request))
    return (time.process_time() - started) / n * 1e6


def _off_path_added(n: int) -> float:
    """The work tracing added to a request while off: the caller-tag reads as the middleware
    and the record stage make them (a suffix test per header, the body's `metadata`)."""
    ctx = open_context("chat.completions", _request())
    started = time.process_time()
    for _ in range(n):
        tagged = [(name, value) for name, value in HEADERS if name.endswith(b"-id")]
        if tagged:
            CallerTags.from_headers(tagged)
        _caller(ctx, None)
    return (time.process_time() - started) / n * 1e6


def _subscriber_cost(subscriber: Any, n: int) -> float:
    """CPU per RequestFinished event of one of this issue's subscribers (SLO buckets, GenAI)."""
    event = RequestFinished(
        request_id="r", endpoint="chat.completions", model="m", deployment="d", status=200,
        outcome="ok", stream=True, usage=Usage(10, 20), usage_estimated=False, cost_usd=0.001,
        latency_s=0.2, ttft_s=0.05, overhead_s=0.0002, attempts=1, key_id="k", tenant="t",
        provider="openai", requested_model="m", response_model="m-up",
    )  # fmt: skip
    started = time.process_time()
    for _ in range(n):
        subscriber.request_finished(event)
    return (time.process_time() - started) / n * 1e6


def best(runs: int, measure: Callable[[], float]) -> float:
    return min(measure() for _ in range(runs))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(DropSpans()))
    off_pipeline, on_pipeline = _pipeline(None), _pipeline(Tracing(provider, owned=True))
    loop = asyncio.new_event_loop()
    try:
        off = on = float("inf")
        for _ in range(args.repeat):  # interleaved, so drift hits both alike
            off = min(off, loop.run_until_complete(_run(off_pipeline, args.requests)))
            on = min(on, loop.run_until_complete(_run(on_pipeline, args.requests)))
    finally:
        loop.close()
        provider.shutdown()
    added = best(args.repeat, lambda: _off_path_added(args.requests * 4))
    objective = SloConfig.model_validate({"model": "m", **DEFAULT_TARGETS})
    slo = SloTracker([objective], ["m"])
    genai = GenAiMetrics(CollectorRegistry(), ["t"])
    slo_us = best(args.repeat, lambda: _subscriber_cost(slo, args.requests * 4))
    genai_us = best(args.repeat, lambda: _subscriber_cost(genai, args.requests * 4))
    result = {
        "requests": args.requests,
        "repeat": args.repeat,
        "off_chain_cpu_us": round(off, 2),
        "on_chain_cpu_us": round(on, 2),
        "on_minus_off_us": round(on - off, 2),
        "on_over_off": round(on / off, 2),
        "off_path_added_us": round(added, 3),
        "off_target_us": 10.0,
        "off_ok": added < 10.0,
        "slo_tracker_us_per_request": round(slo_us, 2),
        "genai_metrics_us_per_request": round(genai_us, 2),
    }
    print(json.dumps(result, indent=2))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    raise SystemExit(0 if main()["off_ok"] else 1)
