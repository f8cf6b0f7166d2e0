"""The static embedder: the committed token table distilled from MiniLM, MiniLM's tokenizer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from switchboard.catalogue import Catalogue
from switchboard.config import Settings
from switchboard.embeddings.build import build_embedder
from switchboard.embeddings.local import EmbedderUnavailable, LocalEmbedder
from switchboard.embeddings.static import StaticEmbedder

PARAPHRASES = [
    ("How do I reset my password?", "What is the way to reset my password?"),
    ("The cat sits on the mat", "A cat is sitting on a mat"),
    ("What is the capital of France?", "Which city is the capital of France?"),
    ("How can I cancel my subscription?", "I want to cancel my subscription, how?"),
]
UNRELATED = ["Stock markets fell sharply today", "Bake the bread for forty minutes"]


@pytest.fixture(scope="module")
def static() -> StaticEmbedder:
    return StaticEmbedder()


async def test_unit_vectors_of_the_table_width(static: StaticEmbedder) -> None:
    texts = ["hello", "", "a much longer question " * 200, "naïve café ☕"]
    vectors = await static.embed(texts)
    assert vectors.shape == (4, static.dimensions) == (4, 128)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert (await static.embed([])).shape == (0, 128)
    again = await static.embed(["hello"])
    np.testing.assert_array_equal(again[0], vectors[0])  # deterministic


async def test_paraphrases_score_higher_than_unrelated_texts(static: StaticEmbedder) -> None:
    for a, b in PARAPHRASES:
        va, vb, *others = await static.embed([a, b, *UNRELATED])
        similar = float(va @ vb)
        assert similar > 0.8
        assert all(similar > float(va @ other) + 0.2 for other in others), (a, b)


async def test_similarities_track_minilm(
    static: StaticEmbedder, local_embedder: LocalEmbedder
) -> None:
    """The distillation keeps MiniLM's neighbours: each text's nearest other text is the same."""
    texts = [t for pair in PARAPHRASES for t in pair] + UNRELATED
    s, m = await static.embed(texts), await local_embedder.embed(texts)
    sim_s, sim_m = s @ s.T, m @ m.T
    np.fill_diagonal(sim_s, -1)
    np.fill_diagonal(sim_m, -1)
    paired = 2 * len(PARAPHRASES)
    assert list(sim_s.argmax(1)[:paired]) == list(sim_m.argmax(1)[:paired])


def test_loads_offline_from_package_data() -> None:
    """A fresh interpreter with the hub offline finds the table inside the installed package."""
    code = (
        "import asyncio, switchboard.embeddings.static as s;"
        "e = s.StaticEmbedder(); print(s._table_path()); "
        "print(str(asyncio.run(e.embed(['ok'])).shape).replace(' ', ''))"
    )
    env = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    path, shape = done.stdout.split()
    assert Path(path).parent.parent.name == "embeddings" and Path(path).is_file()
    assert shape == "(1,128)"


def test_missing_table_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(EmbedderUnavailable, match="missing"):
        StaticEmbedder(tmp_path / "none.npz")


def test_settings_select_it() -> None:
    async def no_call(request: object) -> object:
        raise AssertionError("the static embedder never calls the pipeline")

    catalogue = Catalogue.model_validate(
        {"models": [{"name": "m", "deployments": [{"provider": "local", "model": "x"}]}]}
    )
    built = build_embedder(Settings(embedder="static"), catalogue, no_call)  # type: ignore[arg-type]
    assert isinstance(built.inner, StaticEmbedder) and built.dimensions == 128
