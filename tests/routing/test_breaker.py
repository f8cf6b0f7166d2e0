"""Circuit breaker state machine, driven by a fake clock."""

from __future__ import annotations

from switchboard.routing.breaker import BreakerPolicy, BreakerState, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock, min_span_s: float = 0.0) -> CircuitBreaker:
    policy = BreakerPolicy(
        window_s=10, min_calls=4, failure_rate=0.5, cooldown_s=5, min_span_s=min_span_s
    )
    return CircuitBreaker(policy, clock)


def test_opens_at_failure_rate_with_enough_calls() -> None:
    clock = Clock()
    b = breaker(clock)
    b.record(False)
    b.record(False)
    b.record(False)
    assert b.state is BreakerState.CLOSED  # 3 calls < min_calls
    b.record(True)
    b.record(False)  # 4 failures of 5
    assert b.state is BreakerState.OPEN
    assert not b.allow() and not b.available()


def test_stays_closed_below_rate() -> None:
    clock = Clock()
    b = breaker(clock)
    for i in range(20):
        b.record(i % 3 != 2)  # one failure in three
    assert b.state is BreakerState.CLOSED


def test_old_outcomes_leave_the_window() -> None:
    clock = Clock()
    b = breaker(clock)
    for _ in range(3):
        b.record(False)
    clock.now += 11
    b.record(True)
    b.record(False)
    assert b.state is BreakerState.CLOSED  # only 2 calls in the window


def test_half_open_probe_closes_or_reopens() -> None:
    clock = Clock()
    b = breaker(clock)
    for _ in range(4):
        b.record(False)
    assert b.state is BreakerState.OPEN
    clock.now += 5
    assert b.state is BreakerState.HALF_OPEN
    assert b.allow()  # the one probe
    assert not b.allow()  # no second probe while it runs
    b.record(False)
    assert b.state is BreakerState.OPEN
    clock.now += 5
    assert b.allow()
    b.record(True)
    assert b.state is BreakerState.CLOSED
    assert b.allow()


def test_released_probe_can_be_taken_again() -> None:
    clock = Clock()
    b = breaker(clock)
    for _ in range(4):
        b.record(False)
    clock.now += 5
    assert b.allow()
    b.release_probe()
    assert b.allow()


def test_a_burst_of_fast_failures_does_not_trip_before_the_min_span() -> None:
    clock = Clock()
    b = breaker(clock, min_span_s=1.0)
    for _ in range(6):  # fast failures arrive first...
        b.record(False)
    assert b.state is BreakerState.CLOSED
    clock.now += 0.5
    for _ in range(14):  # ...then the slower successes: 30% failures overall
        b.record(True)
    clock.now += 0.6
    b.record(False)
    assert b.state is BreakerState.CLOSED  # 7 of 21 failed: under the 50% rate
    for _ in range(20):
        b.record(False)
    assert b.state is BreakerState.OPEN  # a real outage still opens it


def test_window_counts_what_the_breaker_judges_by() -> None:
    clock = Clock()
    b = breaker(clock)
    b.record(True)
    b.record(False)
    clock.now += 4
    b.record(True)
    assert b.window() == (2, 1)
    clock.now += 7  # the first second has left the 10 s window
    assert b.window() == (1, 0)
    clock.now += 10
    assert b.window() == (0, 0)
