"""When to try again: exponential backoff with full jitter, honouring the upstream's Retry-After."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    rounds: int = 1  # extra passes over the plan after every candidate failed
    backoff_s: float = 0.1
    backoff_max_s: float = 2.0
    retry_after_max_s: float = 5.0

    def delay(self, round_no: int, retry_after: float | None, rng: random.Random) -> float | None:
        """Seconds to wait before pass `round_no` (1-based), or None to give up now."""
        if round_no > self.rounds:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.retry_after_max_s else None
        return rng.uniform(0.0, min(self.backoff_max_s, self.backoff_s * 2 ** (round_no - 1)))
