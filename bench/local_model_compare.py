"""The local model's runtimes side by side in one process, timed in CPU time of the generating
thread (which contention on a shared machine inflates far less than wall time), and their
greedy answers compared word for word.

    python -m bench.local_model_compare [--tokens 32] [--rounds 3]

For each prompt and runtime (transformers in bfloat16, our forward in bfloat16, our forward with
int4 weights), one thread: CPU ms to the first token with nothing reused (the prompt cache is
cleared), CPU ms per later token, and whether the greedy text equals transformers'.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from switchboard.config import Settings
from switchboard.domain import Message
from switchboard.providers.local import locate_gguf
from switchboard.providers.local_generation import Sampling

PROMPTS = [
    "What is the capital of France?",
    "Write two sentences about the sea.",
    "List three colors.",
    "Explain what a CPU does in one sentence.",
    "Give me a tip for learning to cook.",
    "What is the largest planet in the solar system?",
    "Translate 'thank you' into Spanish.",
    "Why is the sky blue?",
    "Name a famous painter.",
    "How many legs does a spider have?",
    "Suggest a name for a cat.",
    "What is photosynthesis?",
]


def timed(model: Any, text: str, tokens: int) -> tuple[str, float, float]:
    """(greedy text, CPU ms to the first token, CPU ms per later token) on this thread."""
    if hasattr(model, "prompts"):
        model.prompts.cache = None  # nothing reused: the prompt runs whole
    marks: list[float] = []
    started = time.thread_time()
    result = model.generate(
        [Message("user", text)],
        Sampling(max_new_tokens=tokens),
        lambda _: marks.append(time.thread_time()),
        threading.Event(),
    )
    total = time.thread_time() - started
    first = (marks[0] - started) if marks else total
    later = (total - first) / max(result.completion_tokens - 1, 1)
    return result.text, first * 1000, later * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from switchboard.providers import local_runtime, local_torch

    gguf = locate_gguf(Settings())
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        models = {
            "transformers_bf16": local_runtime.load_model(gguf, 1, cache, "bfloat16"),
            "ours_bf16": local_torch.load_model(gguf, 1, cache, "bfloat16", "none"),
            "ours_int4": local_torch.load_model(gguf, 1, cache, "bfloat16", "int4"),
        }
    texts: dict[str, list[str]] = {name: [] for name in models}
    first: dict[str, list[float]] = {name: [] for name in models}
    later: dict[str, list[float]] = {name: [] for name in models}
    for round_ in range(args.rounds):
        for text in PROMPTS:
            for name, model in models.items():  # interleaved: the same load for each
                answer, to_first, per_token = timed(model, text, args.tokens)
                first[name].append(to_first)
                later[name].append(per_token)
                if round_ == 0:
                    texts[name].append(answer)
    reference = texts["transformers_bf16"]

    def agreeing(name: str) -> int:
        return sum(a == b for a, b in zip(texts[name], reference, strict=True))

    summary = {
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "prompts": len(PROMPTS),
        "tokens": args.tokens,
        **{
            name: {
                "cpu_ms_to_first_token_median": round(statistics.median(first[name]), 1),
                "cpu_ms_per_token_median": round(statistics.median(later[name]), 1),
                "same_text_as_transformers": agreeing(name),
                "france": texts[name][0],
            }
            for name in models
        },
        "int4_differing": [
            {"prompt": p, "transformers": b, "int4": a}
            for p, a, b in zip(PROMPTS, texts["ours_int4"], reference, strict=True)
            if a != b
        ],
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
