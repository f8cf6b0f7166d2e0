"""The lean MiniLM forward pass (embeddings/bert.py, used by embeddings/local.MiniLM) against the
reference: the same model run by `transformers.BertModel` with its own tokenizer, mean-pooled and
normalised as sentence-transformers does. Real weights, real torch, both precisions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from switchboard.config import Settings
from switchboard.embeddings.bert import BertEncoder, bf16_supported
from switchboard.embeddings.local import (
    EmbedderUnavailable,
    LocalEmbedder,
    MiniLM,
    locate_model,
    resolve_precision,
)

TEXTS = [
    "How do I reset my password?",
    "what's the refund policy for annual plans",
    "Translate 'good morning' to French",
    "",
    "ünïcödé, 日本語 and emoji 🙂 in one line",
    "word " * 600,  # past the 256 tokens the model reads: truncated the same way
    "Is 3.5 GB enough for the 2024 release, or do I need 8?",
    "a",
]


@pytest.fixture(scope="module")
def model_path() -> Path:
    return locate_model()


@pytest.fixture(scope="module")
def reference(model_path: Path) -> tuple[np.ndarray, list[int]]:
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_path), local_files_only=True)
    model = AutoModel.from_pretrained(str(model_path), local_files_only=True).eval()
    rows, counts = [], []
    with torch.inference_mode():
        for text in TEXTS:  # one at a time: no padding in the reference
            batch = tokenizer([text], truncation=True, max_length=256, return_tensors="pt")
            hidden = model(**batch).last_hidden_state[0]
            rows.append(torch.nn.functional.normalize(hidden.mean(0), dim=0).numpy())
            counts.append(int(batch["input_ids"].shape[1]))
    return np.vstack(rows), counts


@pytest.fixture(scope="module")
def fp32(model_path: Path) -> MiniLM:
    return MiniLM(model_path, threads=1, precision="fp32")


def _singles(model: MiniLM) -> np.ndarray:
    return np.vstack([model.encode([text])[0] for text in TEXTS])


def test_fp32_equals_the_transformers_model(
    fp32: MiniLM, reference: tuple[np.ndarray, list[int]]
) -> None:
    expected, counts = reference
    assert fp32.precision == "fp32"
    np.testing.assert_allclose(_singles(fp32), expected, atol=2e-6)
    vectors, tokens = fp32.encode(TEXTS)  # one padded, masked batch
    np.testing.assert_allclose(vectors, expected, atol=2e-6)
    assert tokens == counts
    assert max(counts) == 256  # the long text was cut at the model's limit, as the reference cuts


def test_bf16_keeps_the_meaning(model_path: Path, reference: tuple[np.ndarray, list[int]]) -> None:
    if not bf16_supported():
        assert resolve_precision("auto") == "fp32"  # never emulated bf16 by default
        pytest.skip("this CPU has no native bf16: auto runs fp32 (tested above)")
    model = MiniLM(model_path, threads=1, precision="bf16")
    assert model.precision == "bf16" and resolve_precision("auto") == "bf16"
    expected, counts = reference
    for vectors in (_singles(model), model.encode(TEXTS)[0]):
        cosines = np.sum(vectors * expected, axis=1)
        assert cosines.min() > 0.9995, cosines
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert model.encode(TEXTS)[1] == counts


def test_a_padded_batch_gives_each_text_its_own_row(fp32: MiniLM) -> None:
    texts = [f"question {i}: " + "how do I restart the service " * (i % 5) for i in range(40)]
    together = fp32.encode(texts, chunk=16)[0]  # mixed lengths, padded within each chunk
    alone = np.vstack([fp32.encode([text])[0] for text in texts])
    np.testing.assert_allclose(together, alone, atol=2e-6)
    padded_reversed = fp32.encode(texts[::-1], chunk=64)[0][::-1]
    np.testing.assert_allclose(padded_reversed, alone, atol=2e-6)


def test_the_encoder_refuses_what_the_model_cannot_read(model_path: Path) -> None:
    import torch

    encoder = BertEncoder(model_path)
    with pytest.raises(ValueError, match="exceed"):
        encoder.forward(torch.zeros((1, 513), dtype=torch.long))
    with pytest.raises(ValueError, match="precision"):
        BertEncoder(model_path, precision="fp16")


async def test_an_unknown_precision_is_reported() -> None:
    embedder = LocalEmbedder(precision="int4")
    with pytest.raises(EmbedderUnavailable, match="precision"):
        await embedder.embed(["hello"])
    embedder.close()
    with pytest.raises(ValueError, match="embedder_precision"):
        Settings(embedder_precision="int4")  # type: ignore[arg-type]


def test_auto_falls_back_to_fp32_where_bf16_fails(
    model_path: Path, monkeypatch: pytest.MonkeyPatch, fp32: MiniLM
) -> None:
    """A torch build without the oneDNN bf16 ops (or a CPU that refuses them) still embeds."""
    import switchboard.embeddings.bert as bert

    def refuse(weight: object) -> object:
        raise RuntimeError("no bf16 kernels in this build")

    monkeypatch.setattr(bert, "bf16_supported", lambda: True)
    monkeypatch.setattr(bert, "pack_bf16", refuse)
    fallen = MiniLM(model_path, threads=1, precision="auto")
    assert fallen.precision == "fp32"
    np.testing.assert_allclose(fallen.encode(TEXTS)[0], fp32.encode(TEXTS)[0], atol=1e-6)
    with pytest.raises(RuntimeError, match="no bf16"):
        MiniLM(model_path, threads=1, precision="bf16")  # asked for by name: no silent change
