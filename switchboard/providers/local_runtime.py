"""The torch side of the local model: load the weights (local_weights.py), generate on the
calling thread, stream text.

Importing this module imports torch and transformers; `providers/local.py` imports it only inside
its loader, on its worker thread, so that a gateway without local models never pays for them.
Everything here runs on that one worker thread.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
import transformers.modeling_gguf_pytorch_utils as gguf_utils
from transformers import (
    PreTrainedModel,
    StoppingCriteria,
    StoppingCriteriaList,
)
from transformers.utils import logging as hf_logging

from switchboard.domain import Message
from switchboard.providers.local_generation import (
    Generation,
    Sampling,
    StopMatcher,
    TextStream,
    chat_messages,
    reply_room,
)
from switchboard.providers.local_weights import load_weights


class TokenTap(StoppingCriteria):
    """Hands each new token, as transformers chooses it, to a TextStream, and stops generation
    when the stream says so (a stop string, or the consumer has gone)."""

    def __init__(self, stream: TextStream) -> None:
        self.stream = stream

    def __call__(self, input_ids: torch.LongTensor, scores: Any, **kwargs: Any) -> torch.BoolTensor:
        done = self.stream.push(int(input_ids[0, -1]))
        return torch.full((input_ids.shape[0],), done, dtype=torch.bool)  # type: ignore[return-value]


class LocalModel:
    """A loaded causal LM and its tokenizer; `generate` must run on the loading thread."""

    def __init__(self, model: PreTrainedModel, tokenizer: Any, load_seconds: float) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.load_seconds = load_seconds
        self.context_length = int(getattr(model.config, "max_position_embeddings", 2048))
        eos = model.generation_config.eos_token_id
        self.eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])

    def generate(
        self,
        messages: list[Message],
        sampling: Sampling,
        emit: Callable[[str], None],
        cancel: threading.Event,
        on_start: Callable[[int], None] | None = None,
    ) -> Generation:
        """Generate a reply to `messages`, handing text pieces to `emit` as they are decoded."""
        inputs = self.tokenizer.apply_chat_template(
            chat_messages(messages),
            add_generation_prompt=True,
            return_dict=True,
            return_tensors="pt",
        )
        prompt_tokens = int(inputs["input_ids"].shape[1])
        max_new = reply_room(prompt_tokens, self.context_length, sampling, on_start)
        stream = TextStream(self._decode, StopMatcher(sampling.stop), emit, cancel)
        with torch.inference_mode():
            self.model.generate(  # type: ignore[operator]
                **inputs,
                **self._decoding_options(sampling, max_new),
                stopping_criteria=StoppingCriteriaList([TokenTap(stream)]),
            )
        stream.finish()
        return Generation(
            text="".join(stream.pieces),
            prompt_tokens=prompt_tokens,
            completion_tokens=len(stream.ids),
            finish_reason=stream.finish_reason(self.eos_ids, max_new),
        )

    def _decode(self, ids: list[int]) -> str:
        text: str = self.tokenizer.decode(ids, skip_special_tokens=True)
        return text

    def _decoding_options(self, sampling: Sampling, max_new: int) -> dict[str, Any]:
        if sampling.temperature <= 0:
            return {"max_new_tokens": max_new, "do_sample": False}
        if sampling.seed is not None:
            torch.manual_seed(sampling.seed)  # one worker thread, so this request owns the RNG
        return {
            "max_new_tokens": max_new,
            "do_sample": True,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p if sampling.top_p is not None else 1.0,
            "top_k": 0,  # OpenAI semantics have no top-k cut
        }


@contextlib.contextmanager
def _quiet_gguf_conversion() -> Iterator[None]:
    """Silence the tqdm bar transformers draws while it de-quantises GGUF tensors."""
    bar = getattr(gguf_utils, "tqdm", None)
    if bar is None:
        yield
        return
    gguf_utils.tqdm = functools.partial(bar, disable=True)  # type: ignore[attr-defined]
    try:
        yield
    finally:
        gguf_utils.tqdm = bar  # type: ignore[attr-defined]


def load_model(path: Path, threads: int, cache_dir: Path | None, dtype: str) -> LocalModel:
    """Load the GGUF at `path` (converted once, then from `cache_dir`), using `threads` CPU
    threads, and run one token through it so the first request pays no warm-up."""
    torch.set_num_threads(threads)
    hf_logging.disable_progress_bar()
    started = time.perf_counter()
    with _quiet_gguf_conversion():
        model, tokenizer = load_weights(path, cache_dir, dtype)
    model.eval()
    loaded = LocalModel(model, tokenizer, 0.0)
    loaded.generate([Message("user", "Hi")], Sampling(max_new_tokens=1), _ignore, threading.Event())
    loaded.load_seconds = time.perf_counter() - started
    return loaded


def _ignore(_: str) -> None:
    """Text sink for the warm-up generation."""
