"""What the semantic layer embeds: the question without its wrapping, so a paraphrase that
differs only in greetings, "please" or the question's frame is the same question."""

from __future__ import annotations

import pytest

from switchboard.cache.entry import CachedReply
from switchboard.cache.keys import request_keys
from switchboard.cache.normalize import for_embedding
from switchboard.cache.reply_cache import ReplyCache
from switchboard.cache.semantic import SemanticLayer
from switchboard.cache.store import InMemoryReplyStore
from switchboard.catalogue import CacheConfig, Catalogue
from switchboard.domain import ChatRequest, ChatResponse, Choice, Message
from switchboard.embeddings.local import LocalEmbedder
from switchboard.vectors.hnsw import HnswIndex


@pytest.mark.parametrize(
    ("asked", "embedded"),
    [
        ("Hi, can you please tell me what the capital of France is?",
         "what is the capital of france?"),
        ("What's the best way to center a div with CSS?", "how do i center a div with css?"),
        ("How can I get the size of a Python list?", "how do i get the size of a python list?"),
        ("Explain what a sonnet is.", "what is a sonnet?"),
        ("Tell me about the French Revolution!", "what is the french revolution?"),
        ("Explain how vaccines work", "how vaccines work?"),
        ("Write a haiku about rain, please", "write a haiku about rain?"),
        ("Is it not safe?", "is it not safe?"),  # meaning is never touched
        ("please", "please?"),  # nothing left to strip to
    ],
)  # fmt: skip
def test_the_wrapping_is_taken_out(asked: str, embedded: str) -> None:
    assert for_embedding(asked) == embedded


async def test_a_wrapped_paraphrase_hits_as_the_same_question() -> None:
    embedder = LocalEmbedder()
    embedder.start_loading()
    await embedder.ready()
    index = HnswIndex()
    catalogue = Catalogue.model_validate(
        {"models": [{"name": "m", "deployments": [{"provider": "local", "model": "x"}]}]}
    )
    cache = ReplyCache(catalogue, InMemoryReplyStore(100, 1 << 20), SemanticLayer(embedder, index))
    policy = CacheConfig(layers=["exact", "semantic"], threshold=0.99)
    stored = request_keys("m", ChatRequest("m", [Message("user", "How do I reverse a list?")]))
    reply = ChatResponse("id", 0, "m", [Choice(0, "list.reverse()", "stop")])
    cache.keep("s", stored, policy, CachedReply(reply, "m", stored.context, stored.query))
    await cache.drain()
    asked = "Hi! Could you please tell me how can I reverse a list, thanks"
    hit = await cache.lookup(
        "s", "m", request_keys("m", ChatRequest("m", [Message("user", asked)])), policy
    )
    await index.aclose()
    await embedder.aclose()
    assert hit is not None and hit.layer == "semantic"
    assert hit.similarity is not None and hit.similarity > 0.999
