"""The embedded model's start and speed: `switchboard serve` with no catalogue (the `local`
model), timed from launch to `/ready` with an empty weight cache (cold: converts the GGUF) and
again with the cache filled (warm); resident memory once ready and after the requests; TTFT and
tokens/s of streamed requests.

    python -m bench.local_model [--runtime torch|llamacpp] [--dtype auto|bfloat16|float32]
                                [--requests 5] [--threads 0]

RSS is split into anonymous memory and file-backed pages (the memory-mapped weights are the
latter: shared, clean, reclaimable by the kernel).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from switchboard.testing.processes import ServiceProcess, free_port, wait_healthy

PROMPT = "Write two sentences about the sea."


def memory_mb(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "RssAnon", "RssFile"):
            out[name] = int(value.split()[0]) // 1024
    return out


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks of 10 ms


def streamed(base: str, tokens: int) -> tuple[float, float]:
    """(TTFT in ms, tokens/s after the first token) of one streamed request."""
    body = {
        "model": "local",
        "messages": [{"role": "user", "content": PROMPT}],
        "max_tokens": tokens,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    started = time.perf_counter()
    first = last = None
    completion = 0
    with httpx.stream("POST", f"{base}/v1/chat/completions", json=body, timeout=300) as reply:
        for line in reply.iter_lines():
            if not line.startswith("data: {"):
                continue
            chunk = json.loads(line[6:])
            if chunk.get("usage"):
                completion = chunk["usage"]["completion_tokens"]
            if any(c["delta"].get("content") for c in chunk.get("choices", ())):
                last = time.perf_counter()
                first = first or last
    assert first is not None and last is not None and completion > 1
    return (first - started) * 1000, (completion - 1) / max(last - first, 1e-9)


def one_start(
    cache: Path, runtime: str, dtype: str, threads: int, requests: int
) -> dict[str, object]:
    port = free_port()
    env = {
        "SWITCHBOARD_LOCAL_MODEL_CACHE_DIR": str(cache),
        "SWITCHBOARD_LOCAL_MODEL_DTYPE": dtype,
        "SWITCHBOARD_LOCAL_RUNTIME": runtime,
        "SWITCHBOARD_LOCAL_THREADS": str(threads),
        "SWITCHBOARD_PRELOAD_LOCAL_MODEL": "true",
    }
    gateway = ServiceProcess(["serve", "--host", "127.0.0.1", "--port", str(port)], port, env)
    launched = time.perf_counter()
    gateway.start(timeout_s=120)
    assert gateway.proc is not None
    pid = gateway.proc.pid
    try:
        wait_healthy(gateway.base_url, 600, path="/ready")
        ready_s = time.perf_counter() - launched
        ready_cpu = cpu_seconds(pid)
        at_ready = memory_mb(pid)
        runs = [streamed(gateway.base_url, 48) for _ in range(requests)]
        after = memory_mb(pid)
    finally:
        gateway.stop()
    return {
        "ready_s": round(ready_s, 2),
        "ready_cpu_s": round(ready_cpu, 2),
        "rss_ready": at_ready,
        "rss_after": after,
        "ttft_ms_median": round(statistics.median(r[0] for r in runs)),
        "tokens_per_s_median": round(statistics.median(r[1] for r in runs), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runtime", default="torch", choices=["torch", "llamacpp"])
    parser.add_argument("--dtype", default="auto", choices=["auto", "bfloat16", "float32"])
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "weights"
        run = (cache, args.runtime, args.dtype, args.threads, args.requests)
        cold = one_start(*run)
        warm = one_start(*run)
    summary = {"runtime": args.runtime, "dtype": args.dtype, "cold": cold, "warm": warm}
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
