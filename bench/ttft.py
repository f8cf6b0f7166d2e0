"""Sequential requests on one keep-alive connection: time to the first body byte and to the end.

For a streamed chat completion the first body bytes are the first SSE event, so `ttft` is the
client-side time to first token. The blocking client is deliberate: at concurrency 1 it adds
the same few microseconds to every target and nothing else runs beside it.
"""

from __future__ import annotations

import http.client
import math
import time
from dataclasses import dataclass

HEADER = "x-switchboard-overhead-ms"


@dataclass
class Sample:
    ttft_ms: float
    total_ms: float
    reported_overhead_ms: float | None  # Switchboard's own header, where present


def _one(conn: http.client.HTTPConnection, path: str, body: bytes, stream: bool) -> Sample:
    started = time.perf_counter()
    conn.request("POST", path, body, {"Content-Type": "application/json"})
    reply = conn.getresponse()
    first = reply.read1(65536)
    first_at = time.perf_counter()
    rest = reply.read()
    ended = time.perf_counter()
    if reply.status != 200:
        raise RuntimeError(f"HTTP {reply.status}: {(first + rest)[:200]!r}")
    if stream and not (first.startswith(b"data:") and (first + rest).rstrip().endswith(b"[DONE]")):
        raise RuntimeError(f"not a complete SSE stream: {(first + rest)[:200]!r}")
    header = reply.getheader(HEADER)
    return Sample(
        ttft_ms=(first_at - started) * 1000,
        total_ms=(ended - started) * 1000,
        reported_overhead_ms=float(header) if header is not None else None,
    )


def measure(port: int, path: str, body: bytes, count: int, stream: bool) -> list[Sample]:
    """`count` sequential requests after a short warm-up on the same connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        for _ in range(10):
            _one(conn, path, body, stream)
        return [_one(conn, path, body, stream) for _ in range(count)]
    finally:
        conn.close()


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (the value of a real sample, never an interpolation)."""
    ordered = sorted(values)
    rank = min(max(1, math.ceil(pct / 100 * len(ordered))), len(ordered))
    return ordered[rank - 1]


def summarize(samples: list[Sample]) -> dict[str, float | int | None]:
    ttft = [s.ttft_ms for s in samples]
    total = [s.total_ms for s in samples]
    reported = [s.reported_overhead_ms for s in samples if s.reported_overhead_ms is not None]
    return {
        "n": len(samples),
        "ttft_p50_ms": round(percentile(ttft, 50), 3),
        "ttft_p99_ms": round(percentile(ttft, 99), 3),
        "total_p50_ms": round(percentile(total, 50), 3),
        "total_p99_ms": round(percentile(total, 99), 3),
        "reported_overhead_p50_ms": round(percentile(reported, 50), 3) if reported else None,
    }
