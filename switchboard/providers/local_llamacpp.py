"""The optional llama.cpp runtime for the local model (`SWITCHBOARD_LOCAL_RUNTIME=llamacpp`):
the GGUF memory-mapped as it is, quantised, with no conversion and no torch.

Importing this module imports `llama_cpp` (the `llama-cpp-python` package, built from source
by pip); `providers/local.py` imports it only inside its loader, on its worker thread, where
every call here runs. It offers what the torch runtime does: the chat template from the GGUF,
greedy or sampled decoding, stop strings, cancellation within a token.
"""

from __future__ import annotations

import codecs
import threading
import time
from collections.abc import Callable
from pathlib import Path

import llama_cpp
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from switchboard.domain import Message
from switchboard.providers.local_generation import (
    Generation,
    Sampling,
    StopMatcher,
    chat_messages,
    reply_room,
)

CONTEXT_TOKENS = 2048
"""KV cache size: SmolLM2 reads 8192, but a cache that long costs ~190 MB for little use here."""


class LlamaCppModel:
    """A GGUF loaded by llama.cpp; `generate` must run on the loading thread."""

    def __init__(self, path: Path, threads: int) -> None:
        started = time.perf_counter()
        self.llm = llama_cpp.Llama(
            model_path=str(path),
            n_ctx=CONTEXT_TOKENS,
            n_threads=threads,
            n_threads_batch=threads,
            use_mmap=True,
            verbose=False,
        )
        meta = self.llm.metadata
        vocab = self.llm
        self.eos = vocab.token_eos()
        self.formatter = Jinja2ChatFormatter(
            template=meta["tokenizer.chat_template"],
            eos_token=vocab.detokenize([self.eos]).decode("utf-8", "replace"),
            bos_token=vocab.detokenize([vocab.token_bos()]).decode("utf-8", "replace"),
        )
        self.context_length = CONTEXT_TOKENS
        self.load_seconds = time.perf_counter() - started

    def generate(
        self,
        messages: list[Message],
        sampling: Sampling,
        emit: Callable[[str], None],
        cancel: threading.Event,
        on_start: Callable[[int], None] | None = None,
    ) -> Generation:
        """Generate a reply to `messages`, handing text pieces to `emit` as they are decoded."""
        prompt = self.formatter(messages=chat_messages(messages)).prompt  # type: ignore[arg-type]
        tokens = self.llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
        max_new = reply_room(len(tokens), self.context_length, sampling, on_start)
        stops = StopMatcher(sampling.stop)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        pieces: list[str] = []
        produced = 0
        finish = "length"

        def send(text: str) -> None:
            if text:
                pieces.append(text)
                emit(text)

        if sampling.seed is not None:
            self.llm.set_seed(sampling.seed)
        greedy = sampling.temperature <= 0  # else OpenAI's semantics: no top-k or min-p cut
        decoding = self.llm.generate(
            tokens,
            reset=True,
            temp=0.0 if greedy else sampling.temperature,
            top_k=1 if greedy else 0,
            top_p=1.0 if greedy or sampling.top_p is None else sampling.top_p,
            min_p=0.0,
            repeat_penalty=1.0,
        )
        for token in decoding:
            produced += 1
            if token == self.eos:
                finish = "stop"
                break
            send(stops.feed(decoder.decode(self.llm.detokenize([token]))))
            if stops.hit:
                finish = "stop"
                break
            if cancel.is_set():
                finish = "cancelled"
                break
            if produced >= max_new:
                break
        if finish != "cancelled" and not stops.hit:
            send(stops.feed(decoder.decode(b"", final=True)) + stops.flush())
        return Generation("".join(pieces), len(tokens), produced, finish)


def read_vocabulary(path: Path) -> None:
    """Load the GGUF's vocabulary alone and let it go (see local.prime_llamacpp)."""
    llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False).close()


def load_model(path: Path, threads: int) -> LlamaCppModel:
    """Load the GGUF and run one token through it, so the first request pays no warm-up."""
    started = time.perf_counter()
    model = LlamaCppModel(path, threads)
    model.generate([Message("user", "Hi")], Sampling(max_new_tokens=1), _ignore, threading.Event())
    model.load_seconds = time.perf_counter() - started
    return model


def _ignore(_: str) -> None:
    """Text sink for the warm-up generation."""
