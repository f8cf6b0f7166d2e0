"""What the local model is asked (Sampling) and what it produces (Generation), and the
torch-free parts of generating: shared by the provider (event-loop side) and the runtimes
(worker-thread side: torch in local_runtime.py, llama.cpp in local_llamacpp.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from switchboard.domain import Message


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


class LocalModel(Protocol):
    """A loaded model on its worker thread: torch (local_runtime) or llama.cpp (local_llamacpp)."""

    load_seconds: float

    def generate(
        self,
        messages: list[Message],
        sampling: Sampling,
        emit: Callable[[str], None],
        cancel: threading.Event,
        on_start: Callable[[int], None] | None = None,
    ) -> Generation:
        """Generate a reply, handing text pieces to `emit` as they are decoded."""


def chat_messages(messages: list[Message]) -> list[dict[str, str]]:
    """Messages as the chat template takes them: developer becomes system; tool calls and tool
    results, which a small model has no format for, become plain text in the conversation."""
    out: list[dict[str, str]] = []
    for m in messages:
        text = m.text()
        if m.role == "tool":
            source = m.name or m.tool_call_id or "tool"
            out.append({"role": "user", "content": f"Result of {source}:\n{text}"})
        elif m.role == "assistant" and m.tool_calls:
            calls = [_describe_call(call) for call in m.tool_calls]
            out.append({"role": "assistant", "content": "\n".join([text, *calls]).strip()})
        else:
            out.append({"role": "system" if m.role == "developer" else m.role, "content": text})
    return out


def _describe_call(call: dict[str, Any]) -> str:
    function = call.get("function") or {}
    return f"Calling {function.get('name', 'a tool')} with {function.get('arguments', '{}')}"


class StopMatcher:
    """Cuts text at the first stop string, holding back any tail that may begin one."""

    def __init__(self, stops: list[str]) -> None:
        self.stops = [s for s in stops if s]
        self.held = ""
        self.hit = False

    def feed(self, text: str) -> str:
        """The part of `held + text` that is safe to emit now."""
        buffer = self.held + text
        if not self.stops:
            return buffer
        cut = min((i for i in (buffer.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            self.hit, self.held = True, ""
            return buffer[:cut]
        keep = self._partial_tail(buffer)
        self.held = buffer[len(buffer) - keep :]
        return buffer[: len(buffer) - keep]

    def flush(self) -> str:
        out, self.held = self.held, ""
        return out

    def _partial_tail(self, buffer: str) -> int:
        longest = max(len(s) for s in self.stops) - 1
        for k in range(min(len(buffer), longest), 0, -1):
            tail = buffer[-k:]
            if any(s.startswith(tail) for s in self.stops):
                return k
        return 0
