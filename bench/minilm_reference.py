"""The embedder's previous forward pass, kept as the reference: MiniLM through
`transformers.AutoModel` and `AutoTokenizer` (padding, attention mask, pooler and all), mean-pooled
and L2-normalised as sentence-transformers does. Benchmarks and tests compare the shipped lean
encoder (switchboard/embeddings/bert.py) against it, in the same process.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import numpy as np

from switchboard.embeddings.base import Vectors
from switchboard.embeddings.local import DIMENSIONS, MAX_TOKENS, locate_model


class TransformersMiniLM:
    """`encode(texts)` as `embeddings.local.MiniLM.encode`, through transformers."""

    precision = "transformers"

    def __init__(self, path: Path | None = None, device: str = "cpu", half: bool = False) -> None:
        """`device` "cuda" and `half` (float16 weights) serve bench/vector_recall on a GPU."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        path = locate_model(path)
        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        dtype = torch.float16 if half else torch.float32
        model = AutoModel.from_pretrained(str(path), local_files_only=True, dtype=dtype)
        self.model = model.to(device).eval()
        self.device = device

    def encode(self, texts: list[str], chunk: int = 32) -> tuple[Vectors, list[int]]:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        tokens = [0] * len(texts)
        torch = self._torch
        with torch.inference_mode():
            for start in range(0, len(order), chunk):
                rows = order[start : start + chunk]
                batch = self.tokenizer(
                    [texts[i] for i in rows],
                    padding=True,
                    truncation=True,
                    max_length=MAX_TOKENS,
                    return_tensors="pt",
                ).to(self.device)
                hidden = self.model(**batch).last_hidden_state.float()
                mask = batch["attention_mask"].unsqueeze(-1).float()
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                out[rows] = pooled.cpu().numpy()
                for row, count in zip(rows, batch["attention_mask"].sum(1).tolist(), strict=True):
                    tokens[row] = int(count)
        return out, tokens


class ReferenceEmbedder:
    """The reference behind the Embedder protocol (for bench/cache_eval), one thread."""

    def __init__(self) -> None:
        self._model = TransformersMiniLM()

    @property
    def name(self) -> str:
        return "all-MiniLM-L6-v2"

    @property
    def dimensions(self) -> int:
        return DIMENSIONS

    async def embed(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.empty((0, DIMENSIONS), dtype=np.float32)
        return (await asyncio.to_thread(self._model.encode, texts))[0]

    async def aclose(self) -> None:
        return None
