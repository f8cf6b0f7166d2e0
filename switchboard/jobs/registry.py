"""Task kinds: a name, the async function that does the work, and its retry and time policy.

A registry belongs to one JobEngine (no module-level state); modules add their tasks through
an installer listed in `jobs/installed.py`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from switchboard.jobs.context import JobContext

TaskFn = Callable[["JobContext", dict[str, Any]], Awaitable[Any]]


@dataclass(frozen=True)
class TaskSpec:
    """How one kind of job runs. `max_attempts` counts every claim, re-deliveries after a lost
    worker included; past it the job is dead-lettered instead of run again."""

    name: str
    fn: TaskFn
    max_attempts: int = 5
    backoff_s: float = 1.0
    backoff_max_s: float = 300.0
    soft_limit_s: float | None = 600.0  # the job's coroutine gets TimeoutError and may clean up
    hard_limit_s: float | None = 660.0  # the worker stops waiting; the job is failed
    public: bool = False  # clients may submit it with POST /v1/tasks

    def backoff(self, attempt: int) -> float:
        """Exponential: backoff_s, 2x, 4x ... capped at backoff_max_s."""
        return float(min(self.backoff_max_s, self.backoff_s * 2 ** max(0, attempt - 1)))


class TaskRegistry:
    def __init__(self) -> None:
        self._specs: dict[str, TaskSpec] = {}

    def add(self, name: str, fn: TaskFn, **policy: Any) -> TaskSpec:
        if name in self._specs:
            raise ValueError(f"task {name!r} is registered twice")
        spec = self._specs[name] = TaskSpec(name, fn, **policy)
        return spec

    def task(self, name: str, **policy: Any) -> Callable[[TaskFn], TaskFn]:
        """Decorator form of `add`."""

        def register(fn: TaskFn) -> TaskFn:
            self.add(name, fn, **policy)
            return fn

        return register

    def get(self, name: str) -> TaskSpec | None:
        return self._specs.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def names(self) -> list[str]:
        return sorted(self._specs)

    def public(self) -> list[str]:
        return sorted(n for n, s in self._specs.items() if s.public)
