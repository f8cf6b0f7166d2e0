"""A catalogue embeddings model as the gateway's embedder: every call goes through the pipeline."""

from __future__ import annotations

import numpy as np
import pytest

from switchboard.config import Settings
from switchboard.embeddings.cached import CachedEmbedder
from switchboard.embeddings.catalogue import CatalogueEmbedder
from switchboard.embeddings.local import LocalEmbedder
from switchboard.errors import ProviderError
from switchboard.gateway import Gateway
from switchboard.testing.harness import MockUpstream
from tests.conftest import mock_catalogue


async def test_embeddings_through_the_pipeline(mock_upstream: MockUpstream) -> None:
    settings = Settings(
        catalogue=mock_catalogue(mock_upstream), embedder="mock", embedder_dimensions=8
    )
    gateway = Gateway.build(settings)
    await gateway.start()
    try:
        embedder = gateway.embedder
        assert isinstance(embedder, CachedEmbedder)
        assert isinstance(embedder.inner, CatalogueEmbedder)
        before = mock_upstream.provider.stats.embedding_requests
        vectors = await embedder.embed(["first text", "second text", "first text"])
        assert vectors.shape == (3, 8)
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
        await embedder.embed(["second text"])  # L3: no second upstream call
        assert mock_upstream.provider.stats.embedding_requests == before + 1
        metrics = gateway.metrics.render().decode()
        assert 'endpoint="internal.embedder"' in metrics  # recorded like any request
    finally:
        await gateway.aclose()


async def test_a_wrong_vector_size_is_a_provider_error(mock_upstream: MockUpstream) -> None:
    settings = Settings(catalogue=mock_catalogue(mock_upstream), embedder="mock")
    gateway = Gateway.build(settings)  # expects 384; the mock answers with another size
    await gateway.start()
    try:
        assert gateway.embedder is not None
        with pytest.raises(ProviderError, match="shape"):
            await gateway.embedder.embed(["x"])
    finally:
        await gateway.aclose()


def test_an_unknown_embedder_is_refused(mock_upstream: MockUpstream) -> None:
    with pytest.raises(ValueError, match="neither"):
        Gateway.build(Settings(catalogue=mock_catalogue(mock_upstream), embedder="absent"))


async def test_the_local_model_shares_the_gateway_embedder() -> None:
    gateway = Gateway.build(Settings(preload_local_model=False))
    try:
        assert gateway.embedder is not None
        local = gateway.embedder.inner
        assert isinstance(local, LocalEmbedder)
        provider = next(iter(gateway.providers.values()))
        assert provider.embedder() is local  # type: ignore[attr-defined]
    finally:
        await gateway.aclose()
