"""Every module's tasks, installed into an engine's registry: add one line for a new module.

An installer is `install(registry, settings)` that calls `registry.add(name, fn, **policy)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from switchboard.jobs.registry import TaskRegistry

if TYPE_CHECKING:
    from switchboard.config import Settings


def install_tasks(registry: TaskRegistry, settings: Settings) -> None:
    from switchboard.jobs import batch_task, builtin, chat_task, eval_task
    from switchboard.rag import tasks as rag_tasks

    builtin.install(registry, settings)
    chat_task.install(registry, settings)
    batch_task.install(registry, settings)
    rag_tasks.install(registry, settings)
    eval_task.install(registry, settings)
