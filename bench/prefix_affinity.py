"""KV-cache aware routing: how often a replica's prefix cache hits, by balancing strategy.

    python bench/prefix_affinity.py [--conversations 120] [--turns 5] [--concurrency 8]

Three in-process mock replicas behind one gateway; each counts, like a vLLM/TGI prefix cache,
the leading messages of every chat it has seen before (MockStats.prefix_cached_messages).
Conversations over 10 long system prompts run concurrently, turn after turn; each strategy gets
fresh replicas. Reported: the share of prompt messages a replica had cached, requests per
replica (max / mean: the load imbalance), and wall time.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from switchboard.catalogue import Catalogue
from switchboard.config import Settings
from switchboard.testing.harness import BackgroundLoop, run_gateway
from switchboard.testing.mock_provider import MockConfig, MockProvider

SYSTEMS = [
    f"You are agent {i}. " + "Obey the operating manual, section by section. " * 50
    for i in range(10)
]
STRATEGIES = ("weighted", "least_busy", "prefix_affinity")


def converse(url: str, model: str, index: int, turns: int) -> int:
    messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEMS[index % len(SYSTEMS)]}]
    sent = 0
    with httpx.Client(timeout=30) as client:
        for turn in range(turns):
            messages.append({"role": "user", "content": f"chat {index}, question {turn}"})
            body = {"model": model, "messages": messages}
            reply = client.post(url + "/chat/completions", json=body).json()
            sent += len(messages)
            messages.append(reply["choices"][0]["message"])
    return sent


def run(background: BackgroundLoop, strategy: str, args: argparse.Namespace) -> str:
    mocks = [MockProvider(MockConfig(tokens=8, ttft_ms=2)) for _ in range(3)]
    ports = [background.run(m.start("127.0.0.1", 0)) for m in mocks]
    deps = [
        {
            "provider": "openai",
            "model": "m",
            "name": f"r{i}",
            "api_base": f"http://127.0.0.1:{p}/v1",
        }
        for i, p in enumerate(ports)
    ]
    model = {"name": "m", "strategy": strategy, "deployments": deps}
    settings = Settings(catalogue=Catalogue.model_validate({"models": [model]}))
    try:
        with run_gateway(background, settings) as gw, ThreadPoolExecutor(args.concurrency) as pool:
            started = time.perf_counter()
            sent = sum(
                pool.map(lambda i: converse(gw.url, "m", i, args.turns), range(args.conversations))
            )
            wall = time.perf_counter() - started
    finally:
        for m in mocks:
            background.run(m.stop())
    cached = sum(m.stats.prefix_cached_messages for m in mocks)
    load = [m.stats.chat_requests for m in mocks]
    imbalance = max(load) / (sum(load) / len(load))
    return (
        f"{strategy:<16} cached {cached / sent:6.1%} of {sent:,} prompt messages   "
        f"requests per replica {load} (max/mean {imbalance:.2f})   {wall:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=120)
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    background = BackgroundLoop()
    try:
        for strategy in STRATEGIES:
            print(run(background, strategy, args), flush=True)
    finally:
        background.close()


if __name__ == "__main__":
    main()
