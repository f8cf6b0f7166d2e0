"""Redis's running totals against the memory limiter's plain recount, on random traffic.

The Redis script keeps per-scope sums and prunes seconds as they leave the window; the memory
limiter sums its buckets afresh on every call. Fed the same calls, they must answer the same.
(When the clock steps back, a bucket one of them has already pruned and the other not yet may
count again in one of them only; then only the Redis sums' consistency is checked.)
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from redis.asyncio import Redis

from switchboard.limits import Limit, MemoryRateLimiter, RedisRateLimiter, Reservation

SCOPES = [
    Limit("key:m", rpm=40, tpm=3000),
    Limit("tenant:m", rpm=90),
    Limit("deployment:m", tpm=5000),
]


def next_time(rng: random.Random, now: float, backwards: bool = False) -> float:
    step = rng.random()
    if step < 0.01:
        return now + rng.uniform(100, 5000)  # idle long enough for everything to expire
    if step < 0.03 and backwards:
        return now - rng.uniform(0, 3)  # the clock steps back a little
    if step < 0.10:
        return now + rng.uniform(1, 40)
    return now + rng.uniform(0, 0.5)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_redis_matches_memory(redis_client: Redis, prefix: str, seed: int) -> None:
    rng = random.Random(seed)
    memory, redis = MemoryRateLimiter(), RedisRateLimiter(redis_client, prefix)
    open_pairs: list[tuple[Reservation, Reservation]] = []
    now = 5_000_000.0
    for _ in range(1500):
        now = next_time(rng, now)
        if open_pairs and rng.random() < 0.3:
            pair = open_pairs.pop(rng.randrange(len(open_pairs)))
            actual = rng.randrange(0, 400)
            await memory.settle(pair[0], actual)
            await redis.settle(pair[1], actual)
            continue
        limits = rng.sample(SCOPES, rng.randint(1, 3))
        tokens = rng.choice([0, 1, 50, 200, 400])
        want = await memory.reserve(limits, tokens, now=now)
        got = await redis.reserve(limits, tokens, now=now)
        assert replace(got, reservation=None, retry_after_s=0) == replace(
            want, reservation=None, retry_after_s=0
        )
        assert got.retry_after_s == pytest.approx(want.retry_after_s)
        if want.reservation and got.reservation:
            open_pairs.append((want.reservation, got.reservation))


async def test_sums_stay_consistent_when_the_clock_steps_back(
    redis_client: Redis, prefix: str
) -> None:
    rng = random.Random(7)
    redis = RedisRateLimiter(redis_client, prefix)
    reservations: list[Reservation] = []
    now = 6_000_000.0
    for round_ in range(1500):
        now = next_time(rng, now, backwards=True)
        if reservations and rng.random() < 0.3:
            await redis.settle(reservations.pop(), rng.randrange(0, 400))
        decision = await redis.reserve(rng.sample(SCOPES, 2), rng.choice([0, 50, 400]), now=now)
        if decision.reservation:
            reservations.append(decision.reservation)
        if round_ % 50 == 0:
            for limit in SCOPES:
                raw = await redis_client.hgetall(f"{prefix}rl:{limit.scope}")
                fields = {k.decode() if isinstance(k, bytes) else k: int(v) for k, v in raw.items()}
                buckets = {k: v for k, v in fields.items() if len(k) > 1}
                if fields:
                    assert fields["R"] == sum(v for k, v in buckets.items() if k[0] == "r")
                    assert fields["T"] == sum(v for k, v in buckets.items() if k[0] == "t")
                    assert fields["o"] <= min(int(k[1:]) for k in buckets)
                    assert fields["n"] == max(int(k[1:]) for k in buckets)
