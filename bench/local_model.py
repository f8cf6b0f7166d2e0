"""The embedded model's start and speed: `switchboard serve` with no catalogue (the `local`
model), timed from launch to `/ready` with an empty weight cache (cold: converts the GGUF) and
again with the cache filled (warm); resident memory once ready and after the requests; TTFT and
tokens/s of streamed requests.

    python -m bench.local_model [--runtime torch|transformers|llamacpp]
                                [--dtype auto|bfloat16|float32] [--quantization int4|none]
                                [--requests 5] [--threads 0]

The torch runtime keeps the previous request's key/value cache, so TTFT is measured three
ways: `cold` (each prompt opens with its own system message: nothing to reuse), `new` (another
question under the default system prompt: its ~25 tokens are reused) and `same` (the same
prompt again). Runtimes without prompt reuse show three similar figures.

RSS is split into anonymous memory and file-backed pages (the memory-mapped weights are the
latter: shared, clean, reclaimable by the kernel).
"""

from __future__ import annotations

import argparse
import json
import os
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


def rss_by_mapping(pid: int) -> dict[str, int]:
    """Resident MB by what is mapped: the weight cache's files, torch's libraries, other
    libraries and files, anonymous memory (heaps, tensors, the interpreter's objects)."""
    out = {"weights": 0, "torch_libraries": 0, "other_files": 0, "anonymous": 0}
    name = ""
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split()
        if head and "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
            name = head[5] if len(head) > 5 else ""
        elif head and head[0] == "Rss:":
            if "/local-model/" in name or "/weights/" in name:
                key = "weights"
            elif "/torch/" in name:
                key = "torch_libraries"
            elif name.startswith("/"):
                key = "other_files"
            else:
                key = "anonymous"
            out[key] += int(head[1])
    return {k: v // 1024 for k, v in out.items()}


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process and of its children it has waited for (the torch
    runtime's one-time conversion runs in a child), in clock ticks of 10 ms."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / 100


QUESTIONS = ["What is the capital of France?", "Name three animals.", "What is 2 + 2?"]


def conversation(kind: str, index: int) -> list[dict[str, str]]:
    """The messages of request `index` of a TTFT series (see the module's docstring)."""
    if kind == "cold":
        system = f"You are assistant number {index}. Answer briefly and kindly, request {index}."
        return [{"role": "system", "content": system}, {"role": "user", "content": PROMPT}]
    if kind == "new":
        return [{"role": "user", "content": f"{QUESTIONS[index % len(QUESTIONS)]} ({index})"}]
    return [{"role": "user", "content": PROMPT}]


def streamed(base: str, tokens: int, messages: list[dict[str, str]]) -> tuple[float, float]:
    """(TTFT in ms, tokens/s after the first token) of one streamed request."""
    body = {
        "model": "local",
        "messages": messages,
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
    cache: Path, runtime: str, dtype: str, quantization: str, threads: int, requests: int
) -> dict[str, object]:
    port = free_port()
    env = {
        "SWITCHBOARD_LOCAL_MODEL_CACHE_DIR": str(cache),
        "SWITCHBOARD_LOCAL_MODEL_DTYPE": dtype,
        "SWITCHBOARD_LOCAL_RUNTIME": runtime,
        "SWITCHBOARD_LOCAL_MODEL_QUANTIZATION": quantization,
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
        runs = {
            kind: [streamed(gateway.base_url, 48, conversation(kind, i)) for i in range(requests)]
            for kind in ("cold", "new", "same")
        }
        after = memory_mb(pid)
        by_mapping = rss_by_mapping(pid)
        generating_cpu = cpu_seconds(pid) - ready_cpu
    finally:
        gateway.stop()
    every = [r for series in runs.values() for r in series]
    return {
        "ready_s": round(ready_s, 2),
        "ready_cpu_s": round(ready_cpu, 2),
        "rss_ready": at_ready,
        "rss_after": after,
        "rss_after_by_mapping": by_mapping,
        "cpu_s_per_request": round(generating_cpu / len(every), 2),
        **{
            f"ttft_ms_median_{kind}": round(statistics.median(r[0] for r in series))
            for kind, series in runs.items()
        },
        "tokens_per_s_median": round(statistics.median(r[1] for r in every), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runtime", default="torch", choices=["torch", "transformers", "llamacpp"])
    parser.add_argument("--dtype", default="auto", choices=["auto", "bfloat16", "float32"])
    parser.add_argument("--quantization", default="int4", choices=["int4", "none"])
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "weights"
        run = (cache, args.runtime, args.dtype, args.quantization, args.threads, args.requests)
        cold = one_start(*run)
        warm = one_start(*run)
    summary = {
        "runtime": args.runtime,
        "dtype": args.dtype,
        "quantization": args.quantization,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cold": cold,
        "warm": warm,
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
