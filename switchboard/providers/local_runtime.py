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
from switchboard.errors import InvalidRequest
from switchboard.providers.local_generation import (
    Generation,
    Sampling,
    StopMatcher,
    chat_messages,
)
from switchboard.providers.local_weights import load_weights


class TokenTap(StoppingCriteria):
    """Sees each new token as it is chosen: decodes it incrementally, hands the text on, and
    stops generation when the consumer has gone (`cancel`) or a stop string appeared."""

    def __init__(
        self,
        tokenizer: Any,
        stops: StopMatcher,
        emit: Callable[[str], None],
        cancel: threading.Event,
    ) -> None:
        self.tokenizer = tokenizer
        self.stops = stops
        self.emit = emit
        self.cancel = cancel
        self.ids: list[int] = []
        self.pieces: list[str] = []
        self.prefix = 0  # decoding restarts a token early so word pieces join up right
        self.read = 0

    def __call__(self, input_ids: torch.LongTensor, scores: Any, **kwargs: Any) -> torch.BoolTensor:
        self.ids.append(int(input_ids[0, -1]))
        if not self.stops.hit:
            self._send(self.stops.feed(self._next_text()))
        done = self.stops.hit or self.cancel.is_set()
        return torch.full((input_ids.shape[0],), done, dtype=torch.bool)  # type: ignore[return-value]

    def finish(self) -> None:
        """Emit what was held back (an incomplete character, a possible stop-string prefix)."""
        if self.stops.hit or self.cancel.is_set():
            return
        before = self._decode(self.ids[self.prefix : self.read])
        rest = self._decode(self.ids[self.prefix :])[len(before) :]
        self._send(self.stops.feed(rest) + self.stops.flush())

    def _next_text(self) -> str:
        before = self._decode(self.ids[self.prefix : self.read])
        now = self._decode(self.ids[self.prefix :])
        if len(now) <= len(before) or now.endswith("\ufffd"):
            return ""  # a multi-byte character is still incomplete
        self.prefix, self.read = self.read, len(self.ids)
        return now[len(before) :]

    def _decode(self, ids: list[int]) -> str:
        text: str = self.tokenizer.decode(ids, skip_special_tokens=True)
        return text

    def _send(self, text: str) -> None:
        if text:
            self.pieces.append(text)
            self.emit(text)


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
        room = self.context_length - prompt_tokens
        if room < 1:
            raise InvalidRequest(
                f"the prompt has {prompt_tokens} tokens; the local model's context is "
                f"{self.context_length}",
                param="messages",
                code="context_length_exceeded",
            )
        if on_start is not None:
            on_start(prompt_tokens)
        max_new = min(sampling.max_new_tokens, room)
        tap = TokenTap(self.tokenizer, StopMatcher(sampling.stop), emit, cancel)
        with torch.inference_mode():
            self.model.generate(  # type: ignore[operator]
                **inputs,
                **self._decoding_options(sampling, max_new),
                stopping_criteria=StoppingCriteriaList([tap]),
            )
        tap.finish()
        return Generation(
            text="".join(tap.pieces),
            prompt_tokens=prompt_tokens,
            completion_tokens=len(tap.ids),
            finish_reason=self._finish_reason(tap, max_new),
        )

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

    def _finish_reason(self, tap: TokenTap, max_new: int) -> str:
        if tap.stops.hit or (tap.ids and tap.ids[-1] in self.eos_ids):
            return "stop"
        if tap.cancel.is_set():
            return "cancelled"
        return "length" if len(tap.ids) >= max_new else "stop"


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
