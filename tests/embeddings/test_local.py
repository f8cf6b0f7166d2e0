"""The shipped MiniLM embedder: real model, real torch, one worker thread, batched calls."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from switchboard.embeddings.local import EmbedderUnavailable, LocalEmbedder


async def test_unit_vectors_that_place_paraphrases_close(local_embedder: LocalEmbedder) -> None:
    vectors = await local_embedder.embed(
        ["The cat sits on the mat", "A cat is sitting on a mat", "Stock markets fell sharply"]
    )
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similar, unrelated = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert similar > 0.9 > 0.2 > unrelated
    # the reference value sentence-transformers gives for this pair (mean pooling, normalised)
    assert similar == pytest.approx(0.9726, abs=1e-3)


async def test_concurrent_calls_share_batches_and_keep_their_rows(
    local_embedder: LocalEmbedder,
) -> None:
    texts = [f"question number {i}: how do I restart service {i % 7}?" for i in range(24)]
    alone = await local_embedder.embed(texts[:3])
    before = local_embedder.batches
    rows = await asyncio.gather(*(local_embedder.embed([text]) for text in texts))
    assert local_embedder.batches - before < len(texts)  # merged into fewer forward passes
    together = np.vstack(rows)
    assert together.shape == (24, 384)
    np.testing.assert_allclose(together[:3], alone, atol=1e-4)
    best = together @ together.T
    assert list(best.argmax(axis=1)) == list(range(24))  # each row is its own text's


async def test_empty_input_and_long_input(local_embedder: LocalEmbedder) -> None:
    assert (await local_embedder.embed([])).shape == (0, 384)
    long = await local_embedder.embed(["word " * 5000])  # truncated to the model's 256 tokens
    assert long.shape == (1, 384)


async def test_the_event_loop_keeps_running_while_it_embeds(
    local_embedder: LocalEmbedder,
) -> None:
    ticks = 0
    work = asyncio.ensure_future(
        local_embedder.embed([f"a fairly long sentence about topic {i} " * 8 for i in range(64)])
    )
    while not work.done():
        ticks += 1
        await asyncio.sleep(0.001)
    await work
    assert ticks > 5  # a forward pass on the loop would leave it no turn at all


async def test_a_missing_model_is_reported(tmp_path: Path) -> None:
    embedder = LocalEmbedder(tmp_path)
    with pytest.raises(EmbedderUnavailable, match=r"config\.json"):
        await embedder.embed(["hello"])
    await embedder.aclose()
    with pytest.raises(EmbedderUnavailable, match="shut down"):
        await embedder.embed(["hello"])
