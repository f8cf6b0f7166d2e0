"""LiveShare on the real Redis, with a fake clock: the merged view of two replicas equals one
LiveStats that saw all their traffic; a replica that stops publishing leaves the count; with
Redis away there is no cluster view (the dashboard falls back to the replica's own)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator

import pytest

from switchboard.config import Settings
from switchboard.observability.live import LiveStats
from switchboard.observability.live_share import LiveShare
from switchboard.stores.backbone import StoreBackbone
from switchboard.testing.harness import BackgroundLoop
from switchboard.testing.services import accepts_connections, redis_url, require_or_skip
from tests.observability.test_live import Clock, event


@pytest.fixture
def backbone(background: BackgroundLoop) -> Iterator[StoreBackbone]:
    if not accepts_connections(redis_url()):
        require_or_skip(f"needs Redis at {redis_url()}")
    prefix = f"sblive:{uuid.uuid4().hex}:"
    made = StoreBackbone.from_settings(
        Settings(redis_url=redis_url(), redis_prefix=prefix), lambda kind: None
    )
    assert made is not None
    yield made

    async def drop() -> None:
        keys = [k async for k in made.client.scan_iter(f"{prefix}*")]
        if keys:
            await made.client.delete(*keys)
        await made.aclose()

    background.run(drop())


def test_two_replicas_merge_to_what_one_would_have_seen(
    background: BackgroundLoop, backbone: StoreBackbone
) -> None:
    clock = Clock(2_000_000.0)
    one, two, everything = (LiveStats(clock=clock) for _ in range(3))
    shares = [LiveShare(s, backbone, lambda: 1, clock=clock) for s in (one, two)]
    rng = random.Random(7)
    for _ in range(40):  # 40 seconds of mixed traffic on both replicas
        clock.now += 1
        for stats in (one, two):
            for _ in range(rng.randrange(0, 6)):
                status = rng.choice((200, 200, 200, 429, 502))
                seen = event(status, latency_s=rng.uniform(0.01, 2.0), ttft_s=0.05, cost_usd=0.5)
                stats.request_finished(seen)
                everything.request_finished(seen)
        if clock.now % 5 == 0:
            for share in shares:
                assert background.run(share.publish())
    clock.now += 2.5  # the last second is lag_s old now
    for share in shares[1:]:
        assert background.run(share.publish())
    view = background.run(shares[0].view(None, 10, 60))
    assert view is not None
    end = int(clock.now) - 2
    expected = [everything.summary(t, 10) for t in range(end - 59, end + 1)]
    assert view["series"] == expected  # counts and latency buckets add up exactly
    assert view["current"] == everything.summary(end, 10)
    assert view["requests_total"] == everything.requests_total > 100
    assert (view["replicas"], view["active_requests"]) == (2, 2)
    assert view["spend_by_model"] == {"mock": pytest.approx(everything.cost_by_model["mock"])}
    again = background.run(shares[0].view(end - 1, 10, 60))  # kept seconds: the same numbers
    assert again is not None and again["series"] == expected[-1:]

    clock.now += 31  # the second replica stopped publishing 31 s ago
    later = background.run(shares[0].view(None, 10, 60))
    assert later is not None and later["replicas"] == 1
    assert later["requests_total"] == one.requests_total


def test_no_cluster_view_while_redis_is_away(background: BackgroundLoop) -> None:
    away = StoreBackbone.from_settings(
        Settings(redis_url="redis://127.0.0.1:1/0", redis_socket_timeout_s=0.2), lambda k: None
    )
    assert away is not None
    share = LiveShare(LiveStats(), away, lambda: 0)
    try:
        assert background.run(share.view(None, 10, 60)) is None
    finally:
        background.run(away.aclose())
