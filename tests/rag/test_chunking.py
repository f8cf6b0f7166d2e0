"""Token windows: sizes, overlap, exact slices of the page, page numbers kept."""

from __future__ import annotations

import itertools

import pytest

from switchboard.rag.chunking import TokenChunker, load_tokenizer
from switchboard.rag.parsers import Page

TEXT = " ".join(f"word{i}" for i in range(60))


@pytest.fixture(scope="module")
def tokenizer():  # type: ignore[no-untyped-def]
    return load_tokenizer()


def test_windows_have_the_size_and_overlap_asked(tokenizer) -> None:  # type: ignore[no-untyped-def]
    chunker = TokenChunker(tokenizer, size=20, overlap=5)
    chunks = chunker.chunk([Page(None, TEXT)])
    assert len(chunks) > 3
    assert all(c.tokens <= 20 for c in chunks)
    assert all(c.tokens == chunker.count(c.text) for c in chunks)
    words = set(TEXT.split())
    for a, b in itertools.pairwise(chunks):
        assert a.text.endswith(b.text[: b.text.index(a.text.split()[-1])] + a.text.split()[-1])
        shared = [w for w in b.text.split() if w in a.text.split()]
        assert 1 <= len(shared) <= 5  # ~5 tokens of overlap, whole words only
    assert all(set(c.text.split()) <= words for c in chunks)  # no word cut in two
    assert chunks[0].text.startswith("word0 ") and chunks[-1].text.endswith("word59")
    assert all(c.text in TEXT for c in chunks)  # exact slices of the source
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))


def test_pages_are_chunked_apart_and_keep_their_number(tokenizer) -> None:  # type: ignore[no-untyped-def]
    chunker = TokenChunker(tokenizer, size=8, overlap=2)
    chunks = chunker.chunk([Page(1, "alpha beta gamma"), Page(2, ""), Page(3, "delta epsilon")])
    assert [(c.page, c.text) for c in chunks] == [(1, "alpha beta gamma"), (3, "delta epsilon")]


def test_a_short_text_is_one_chunk_and_bad_settings_are_refused(tokenizer) -> None:  # type: ignore[no-untyped-def]
    assert len(TokenChunker(tokenizer, 200, 40).chunk([Page(None, TEXT)])) == 1
    with pytest.raises(ValueError):
        TokenChunker(tokenizer, 10, 10)
