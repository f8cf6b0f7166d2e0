"""Trim a conversation to a token budget and pick an adaptive max_tokens.

Whole turns go, oldest first: a turn is a user message and what follows it up to the next user
message, so an assistant's tool calls and their tool results leave together. System and developer
messages stay, as does the last user message and all that follows it (the turn being answered).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from switchboard.catalogue import OptimizeConfig
from switchboard.domain import ChatRequest, Message
from switchboard.optimize.tokenizer import TokenCounter

PER_MESSAGE = 3  # role and separators in the chat format (OpenAI's accounting)
REPLY_PRIMING = 3  # the assistant header the model is primed with
MIN_ADAPTIVE = 16  # adaptive max_tokens never goes below this


@dataclass(slots=True)
class OptimizeFacts:
    """What the optimizer did to one request (rendered as x-switchboard-* headers)."""

    tokens_before: int
    tokens_after: int
    messages_dropped: int = 0
    max_tokens: int | None = None  # set when the client set none

    @property
    def trimmed_tokens(self) -> int:
        return self.tokens_before - self.tokens_after


def message_tokens(counter: TokenCounter, message: Message) -> int:
    tokens = PER_MESSAGE + counter.count(message.text())
    if message.tool_calls:
        tokens += counter.count(json.dumps(message.tool_calls, separators=(",", ":")))
    if message.name:
        tokens += 1 + counter.count(message.name)
    return tokens


def _turns(messages: list[Message], end: int) -> list[list[int]]:
    """Indices of the droppable messages before `end`, grouped by turn, oldest first."""
    turns: list[list[int]] = []
    for i, message in enumerate(messages[:end]):
        if message.role in ("system", "developer"):
            continue
        if message.role == "user" or not turns:
            turns.append([i])
        else:
            turns[-1].append(i)
    return turns


def _last_user(messages: list[Message]) -> int:
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].role == "user":
            return i
    return len(messages)  # no user message: everything is history


def trim(request: ChatRequest, policy: OptimizeConfig, counter: TokenCounter) -> OptimizeFacts:
    """Shorten `request.messages` in place to the budget and set max_tokens if asked."""
    sizes = [message_tokens(counter, m) for m in request.messages]
    before = sum(sizes) + REPLY_PRIMING
    total = before
    dropped: set[int] = set()
    budget = policy.max_context_tokens
    if budget is not None and total > budget:
        for turn in _turns(request.messages, _last_user(request.messages)):
            if total <= budget:
                break
            dropped.update(turn)
            total -= sum(sizes[i] for i in turn)
        if dropped:
            request.messages = [m for i, m in enumerate(request.messages) if i not in dropped]
    facts = OptimizeFacts(before, total, len(dropped))
    if policy.adaptive_max_tokens and request.token_limit() is None:
        room = policy.context_window - total
        facts.max_tokens = max(MIN_ADAPTIVE, min(policy.max_output_tokens, room))
        request.max_tokens = facts.max_tokens
    return facts


def trimmed_copy(
    request: ChatRequest, policy: OptimizeConfig, counter: TokenCounter
) -> tuple[ChatRequest, OptimizeFacts]:
    """The optimized request as a new object; the client's request is left as it came."""
    copy = replace(request, messages=list(request.messages))
    return copy, trim(copy, policy, counter)
