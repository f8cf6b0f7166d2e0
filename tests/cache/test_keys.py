"""The canonical form: what changes a key and what does not."""

from __future__ import annotations

from typing import Any

from switchboard.cache.keys import request_keys
from switchboard.domain import ChatRequest, Message


def req(*messages: Message, **kw: Any) -> ChatRequest:
    return ChatRequest("m", list(messages), **kw)


def test_delivery_fields_do_not_change_the_key_answer_fields_do() -> None:
    base = request_keys("m", req(Message("user", "hi"), temperature=0))
    streamed = req(Message("user", "hi"), temperature=0, stream=True, include_usage=True)
    assert request_keys("m", streamed) == base
    labelled = req(Message("user", "hi"), temperature=0, params={"user": "u", "metadata": {}})
    assert request_keys("m", labelled) == base
    for changed in (
        req(Message("user", "hi"), temperature=0.1),
        req(Message("user", "hi"), temperature=0, max_tokens=5),
        req(Message("user", "hi"), temperature=0, params={"seed": 1}),
        req(Message("user", "hi"), temperature=0, params={"response_format": {"type": "json"}}),
        req(Message("user", "hi"), temperature=0, stop=["x"]),
    ):
        assert request_keys("m", changed).exact != base.exact
    assert request_keys("other", req(Message("user", "hi"), temperature=0)).exact != base.exact


def test_the_semantic_halves() -> None:
    one = request_keys("m", req(Message("system", "be brief"), Message("user", "What is DNS?")))
    two = request_keys("m", req(Message("system", "be brief"), Message("user", "Explain DNS")))
    assert one.query == "What is DNS?" and one.context == two.context and one.exact != two.exact
    other = request_keys("m", req(Message("system", "be long"), Message("user", "What is DNS?")))
    assert other.context != one.context
    image = [{"type": "text", "text": "what is this?"}, {"type": "image_url", "image_url": {}}]
    assert request_keys("m", req(Message("user", image))).query is None
    assert request_keys("m", req(Message("user", "q"), Message("assistant", "a"))).query is None


def test_integers_beyond_64_bits_still_make_distinct_keys() -> None:
    a = request_keys("m", req(Message("user", "x"), params={"seed": 10**30}))
    b = request_keys("m", req(Message("user", "x"), params={"seed": 10**30 + 1}))
    assert a.exact != b.exact
