"""Circuit breaker per deployment: closed -> open on a high failure rate -> half-open probe.

Outcomes are counted in one-second buckets over a sliding window; the breaker opens when, with
at least `min_calls` in the window spread over at least `min_span_s`, the failure rate reaches
`failure_rate`. The span guard matters because failures often come back faster than successes:
the first outcomes of a burst over-represent them, and a deployment failing 30% of calls would
trip a 50% breaker. After `cooldown_s` it lets `half_open_probes` requests through: a success
closes it, a failure re-opens it.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    window_s: float = 30.0
    min_calls: int = 10
    failure_rate: float = 0.5
    cooldown_s: float = 10.0
    half_open_probes: int = 1
    min_span_s: float = 1.0


class CircuitBreaker:
    def __init__(self, policy: BreakerPolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self._clock = clock
        # [second, successes, failures, time of the bucket's first outcome]
        self._buckets: deque[list[float]] = deque()
        self._state = BreakerState.CLOSED
        self._opened_at = 0.0
        self._probes = 0

    @property
    def state(self) -> BreakerState:
        if (
            self._state is BreakerState.OPEN
            and self._clock() - self._opened_at >= self.policy.cooldown_s
        ):
            self._state = BreakerState.HALF_OPEN
            self._probes = 0
        return self._state

    def available(self) -> bool:
        """Whether a request could go here now, without reserving a half-open probe."""
        state = self.state
        if state is BreakerState.HALF_OPEN:
            return self._probes < self.policy.half_open_probes
        return state is BreakerState.CLOSED

    def allow(self) -> bool:
        """Whether a request may go here now; reserves a probe when half-open."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and self._probes < self.policy.half_open_probes:
            self._probes += 1
            return True
        return False

    def release_probe(self) -> None:
        """Give back a half-open probe whose request ended without an outcome."""
        if self._state is BreakerState.HALF_OPEN:
            self._probes = max(0, self._probes - 1)

    def record(self, success: bool) -> None:
        state = self.state
        if state is BreakerState.HALF_OPEN:
            self._probes = max(0, self._probes - 1)
            if success:
                self._buckets.clear()
                self._state = BreakerState.CLOSED
            else:
                self._open()
            return
        self._count(success)
        if state is BreakerState.CLOSED and not success and self._tripped():
            self._open()

    def _count(self, success: bool) -> None:
        now = self._clock()
        second = float(int(now))
        if not self._buckets or self._buckets[-1][0] != second:
            self._buckets.append([second, 0.0, 0.0, now])
        self._buckets[-1][1 if success else 2] += 1
        horizon = now - self.policy.window_s
        while self._buckets and self._buckets[0][0] < horizon:
            self._buckets.popleft()

    def window(self) -> tuple[int, int]:
        """Successes and failures counted in the sliding window (what the breaker judges by)."""
        horizon = self._clock() - self.policy.window_s
        kept = [b for b in self._buckets if b[0] >= horizon]
        return int(sum(b[1] for b in kept)), int(sum(b[2] for b in kept))

    def _tripped(self) -> bool:
        if not self._buckets or self._clock() - self._buckets[0][3] < self.policy.min_span_s:
            return False
        ok = sum(b[1] for b in self._buckets)
        bad = sum(b[2] for b in self._buckets)
        calls = ok + bad
        return calls >= self.policy.min_calls and bad / calls >= self.policy.failure_rate

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._probes = 0
        self._state = BreakerState.OPEN
