"""How far shared limits overshoot: 1,000 concurrent requests over 1, 3 and 10 replicas.

    python -m bench.limits_overshoot                 # a Redis of its own (needs redis-server)
    python -m bench.limits_overshoot --stall 0.5     # Redis asleep 0.5 s when the burst arrives

Each replica is a store backbone of its own (own connection pool, own outage back-off), as in a
`switchboard serve` process; they share one event loop here, so the figures are about the
stores' exactness, not throughput. A request reserves 1 of a 60 RPM limit and $0.004 of a $0.10
budget (25 fit). Overshoot = admitted - limit; the target is <= 1 request for RPM and <= the
dearest single request for the budget.
"""

from __future__ import annotations

import argparse
import asyncio
import logging

import redis

from switchboard.limits import Limit, limit_backends
from switchboard.stores.backbone import RedisOptions, StoreBackbone
from switchboard.testing.processes import RedisProcess

RPM, BUDGET_MICRO, COST_MICRO = 60, 100_000, 4_000


async def burst(
    url: str, replicas: int, requests: int, stall_s: float
) -> tuple[int, int, int, int]:
    """Admitted by RPM, admitted by budget, refused as unavailable (503), outages reported."""
    errors: list[str] = []
    backbones = [StoreBackbone(RedisOptions(url, "ovs:"), errors.append) for _ in range(replicas)]
    stores = [limit_backends(backbone) for backbone in backbones]
    scope = f"key:{replicas}:{stall_s}"
    try:
        for backends in stores:
            await backends.spend.seed(scope, "total", 0)

        async def one(i: int) -> tuple[bool, bool, bool]:
            backends = stores[i % replicas]
            rate, spend = await asyncio.gather(
                backends.rate.reserve([Limit(scope, rpm=RPM)], 1),
                backends.spend.reserve(scope, "total", COST_MICRO, BUDGET_MICRO),
            )
            return rate.allowed, spend.allowed, rate.unavailable or spend.unavailable

        with redis.Redis.from_url(url, socket_timeout=30) as admin:
            stall = asyncio.create_task(
                asyncio.to_thread(admin.execute_command, "DEBUG", "SLEEP", str(stall_s))
            )
            await asyncio.sleep(0.05)
            outcomes = await asyncio.gather(*(one(i) for i in range(requests)))
            await stall
    finally:
        for backbone in backbones:
            await backbone.aclose()
    rpm, budget, unavailable = (sum(column) for column in zip(*outcomes, strict=True))
    return rpm, budget, unavailable, len(errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 3, 10])
    parser.add_argument("--stall", type=float, default=0.0, help="DEBUG SLEEP seconds")
    args = parser.parse_args()
    logging.getLogger("switchboard.stores").setLevel(logging.ERROR)  # slow calls: many lines
    server = RedisProcess()
    server.start()
    try:
        print(f"{args.requests} concurrent requests, Redis stalled {args.stall} s at the start")
        print("replicas  RPM 60 admitted (over)  budget 25 admitted (over)  503s  outages")
        for n in args.replicas:
            rpm, budget, refused, outages = asyncio.run(
                burst(server.url, n, args.requests, args.stall)
            )
            print(
                f"{n:>8}  {rpm:>15} ({rpm - RPM:+d})  {budget:>18} ({budget - 25:+d})"
                f"  {refused:>4}  {outages:>7}"
            )
    finally:
        server.kill()


if __name__ == "__main__":
    main()
