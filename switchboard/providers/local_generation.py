"""What the local model is asked (Sampling) and what it produces (Generation), and the
torch-free parts of generating: shared by the provider (event-loop side) and the runtimes
(worker-thread side: torch in local_runtime.py, llama.cpp in local_llamacpp.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from switchboard.domain import Message
from switchboard.errors import InvalidRequest


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


def reply_room(
    prompt_tokens: int,
    context_length: int,
    sampling: Sampling,
    on_start: Callable[[int], None] | None,
) -> int:
    """How many tokens the reply may have; a 400 when the prompt leaves no room in the context."""
    room = context_length - prompt_tokens
    if room < 1:
        raise InvalidRequest(
            f"the prompt has {prompt_tokens} tokens; the local model's context is {context_length}",
            param="messages",
            code="context_length_exceeded",
        )
    if on_start is not None:
        on_start(prompt_tokens)
    return min(sampling.max_new_tokens, room)


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


class TextStream:
    """Turns token ids, one at a time, into text pieces for `emit`: decodes incrementally (a
    multi-byte character waits for its last token), cuts at stop strings, and says when to stop
    (a stop string appeared or the consumer has gone: `cancel`)."""

    def __init__(
        self,
        decode: Callable[[list[int]], str],
        stops: StopMatcher,
        emit: Callable[[str], None],
        cancel: threading.Event,
    ) -> None:
        self.decode = decode  # ids -> text, special tokens skipped
        self.stops = stops
        self.emit = emit
        self.cancel = cancel
        self.ids: list[int] = []
        self.pieces: list[str] = []
        self.prefix = 0  # decoding restarts a token early so word pieces join up right
        self.read = 0

    def push(self, token: int) -> bool:
        """Take the next token; True when generation should stop."""
        self.ids.append(token)
        if not self.stops.hit:
            self._send(self.stops.feed(self._next_text()))
        return self.stops.hit or self.cancel.is_set()

    def finish(self) -> None:
        """Emit what was held back (an incomplete character, a possible stop-string prefix)."""
        if self.stops.hit or self.cancel.is_set():
            return
        before = self.decode(self.ids[self.prefix : self.read])
        rest = self.decode(self.ids[self.prefix :])[len(before) :]
        self._send(self.stops.feed(rest) + self.stops.flush())

    def finish_reason(self, eos_ids: set[int], max_new: int) -> str:
        if self.stops.hit or (self.ids and self.ids[-1] in eos_ids):
            return "stop"
        if self.cancel.is_set():
            return "cancelled"
        return "length" if len(self.ids) >= max_new else "stop"

    def _next_text(self) -> str:
        before = self.decode(self.ids[self.prefix : self.read])
        now = self.decode(self.ids[self.prefix :])
        if len(now) <= len(before) or now.endswith("\ufffd"):
            return ""  # a multi-byte character is still incomplete
        self.prefix, self.read = self.read, len(self.ids)
        return now[len(before) :]

    def _send(self, text: str) -> None:
        if text:
            self.pieces.append(text)
            self.emit(text)
