"""What the local model is asked (Sampling) and what it produces (Generation): shared by the
provider (event-loop side) and the torch runtime (worker-thread side)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Sampling:
    """How to decode one request; `temperature == 0` means greedy."""

    max_new_tokens: int
    temperature: float = 0.0
    top_p: float | None = None
    stop: list[str] = field(default_factory=list)
    seed: int | None = None


@dataclass(slots=True)
class Generation:
    """What one generation produced; `finish_reason` is "stop", "length" or "cancelled"."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str
