"""What the token optimizer saves on a sample of multi-turn conversations, and what it costs.

    python bench/token_optimizer.py [--conversations 300] [--seed 7]

The sample is built from the labeled routing queries (switchboard/routing/data): each
conversation has a system prompt, 1-24 earlier turns (a query and an answer whose length follows
the query's tier: ~60 / ~400 / ~1,200 tokens) and a last question. For each budget it reports
the prompt tokens sent with and without trimming (o200k_base), how many requests were trimmed,
and the CPU time the trim takes per request (counting included). It also shows how far the
4-characters-a-token estimate is from the real count on the same sample.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

from switchboard.catalogue import OptimizeConfig
from switchboard.domain import ChatRequest, Message
from switchboard.optimize.tokenizer import load_counter
from switchboard.optimize.trim import trimmed_copy
from switchboard.tokens import estimate_prompt_tokens

DATA = Path(__file__).resolve().parents[1] / "switchboard/routing/data/complexity_queries.jsonl"
ANSWER_WORDS = {"simple": 45, "moderate": 300, "complex": 900}  # ~0.75 words a token
SYSTEM = "You are a careful assistant for an engineering team. Answer precisely. " * 6
BUDGETS = (2000, 4000, 8000)


def sample(n: int, seed: int) -> list[ChatRequest]:
    rows = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]
    words = " ".join(r["text"] for r in rows).split()
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        messages = [Message("system", SYSTEM)]
        for _ in range(rng.randint(1, 24)):
            row = rng.choice(rows)
            start = rng.randrange(len(words) - 1000)
            answer = " ".join(words[start : start + ANSWER_WORDS[row["tier"]]])
            messages += [Message("user", row["text"]), Message("assistant", answer)]
        messages.append(Message("user", rng.choice(rows)["text"]))
        out.append(ChatRequest("m", messages))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    counter = load_counter("o200k_base")
    requests = sample(args.conversations, args.seed)
    baseline = [trimmed_copy(r, OptimizeConfig(), counter)[1].tokens_before for r in requests]
    estimates = [estimate_prompt_tokens(r) for r in requests]
    errors = [abs(e - b) / b for e, b in zip(estimates, baseline, strict=True)]
    print(
        f"{len(requests)} conversations, prompt tokens (o200k_base): total {sum(baseline):,}, "
        f"p50 {statistics.median(baseline):,.0f}, max {max(baseline):,}"
    )
    print(f"4-chars-a-token estimate vs real count: mean |error| {statistics.mean(errors):.1%}")
    print("budget  trimmed  tokens sent  saved   trim CPU p50  p99 (per request)")
    for budget in BUDGETS:
        policy = OptimizeConfig(max_context_tokens=budget)
        sent, trimmed, cpu = 0, 0, []
        for request in requests:
            started = time.process_time()
            _, facts = trimmed_copy(request, policy, counter)
            cpu.append(time.process_time() - started)
            sent += facts.tokens_after
            trimmed += facts.messages_dropped > 0
        cpu.sort()
        saved = 1 - sent / sum(baseline)
        print(
            f"{budget:>6}  {trimmed:>4}/{len(requests)}  {sent:>11,}  {saved:>5.1%}  "
            f"{cpu[len(cpu) // 2] * 1e3:>9.2f} ms  {cpu[int(len(cpu) * 0.99)] * 1e3:.2f} ms"
        )


if __name__ == "__main__":
    main()
