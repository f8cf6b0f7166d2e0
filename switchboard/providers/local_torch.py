"""The default runtime of the local model: our Llama forward (local_llama.py) on torch, with
int4 weights (local_quant.py), the `tokenizers` library and the model's chat template rendered
by jinja2. transformers is not imported here (only the one-time conversion, in a child process,
uses it), which keeps the gateway's resident memory under 500 MB with the model loaded.

The key/value cache of the previous generation is kept: a prompt that starts like the previous
one (the same system prompt, a conversation that grew by a turn) runs only its new tokens.
Everything here runs on the local model's one worker thread.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from jinja2.sandbox import ImmutableSandboxedEnvironment
from safetensors.torch import load_file
from tokenizers import Tokenizer

from switchboard.domain import Message
from switchboard.errors import InvalidRequest
from switchboard.providers.local_cache import release_freed_memory
from switchboard.providers.local_generation import (
    Generation,
    Sampling,
    StopMatcher,
    TextStream,
    chat_messages,
    reply_room,
)
from switchboard.providers.local_llama import KVCache, Llama
from switchboard.providers.local_pack import Entry, discard, prepare_entry
from switchboard.providers.local_quant import EMBEDDING, HEAD_INT8, FileRows, build_llama

KEEP_CACHE_TOKENS = 1024  # kept between requests: ~23 KB a token (bfloat16), ~24 MB at most


class ChatTemplate:
    """The model's own chat template (jinja), rendered the way transformers renders it."""

    def __init__(self, source: str, special: dict[str, str]) -> None:
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        env.globals["raise_exception"] = _template_refusal
        self.template = env.from_string(source)
        self.special = special

    def render(self, messages: list[dict[str, str]]) -> str:
        return self.template.render(messages=messages, add_generation_prompt=True, **self.special)


def _template_refusal(message: str) -> None:
    """What a chat template calls to refuse a conversation (say, roles out of order)."""
    raise InvalidRequest(f"the local model's chat template refused the messages: {message}")


class PromptCache:
    """The key/value cache and the tokens it holds, reused by the next generation up to the
    point where its tokens differ."""

    def __init__(self, model: Llama) -> None:
        self.model = model
        self.cache: KVCache | None = None
        self.tokens: list[int] = []

    def start(self, prompt: list[int], capacity: int) -> tuple[KVCache, list[int]]:
        """A cache ready for `prompt` and the prompt tokens still to run (at least one)."""
        cache = self.cache
        if cache is None or cache.keys.shape[2] < capacity:
            cache = self.model.new_cache(capacity)
            self.tokens = []
        same = 0
        for old, new in zip(self.tokens, prompt[:-1], strict=False):
            if old != new:
                break
            same += 1
        cache.length = same
        self.cache, self.tokens = None, []  # while it runs the entry is in flux
        return cache, prompt[same:]

    def keep(self, cache: KVCache, tokens: list[int]) -> bool:
        """What the finished generation left: `tokens` are the first cache.length positions.
        False: too long to keep (dropped)."""
        if cache.keys.shape[2] > KEEP_CACHE_TOKENS:
            return False
        self.cache, self.tokens = cache, tokens[: cache.length]
        return True


class TorchModel:
    """The loaded model; `generate` runs on the loading thread."""

    def __init__(self, entry: Path, load_seconds: float = 0.0) -> None:
        config = json.loads((entry / "config.json").read_text())
        weights = entry / "model.safetensors"
        tensors = load_file(str(weights))
        rows = FileRows(weights, EMBEDDING) if HEAD_INT8 in tensors else None
        self.model = build_llama(config, tensors, rows)
        self.tokenizer = Tokenizer.from_file(str(entry / "tokenizer.json"))
        described = json.loads((entry / "tokenizer_config.json").read_text())
        special = {
            k: v for k, v in described.items() if k.endswith("_token") and isinstance(v, str)
        }
        self.template = ChatTemplate((entry / "chat_template.jinja").read_text(), special)
        self.eos_ids = eos_ids(config, entry / "generation_config.json")
        self.context_length = self.model.shape.context_length
        self.prompts = PromptCache(self.model)
        self.load_seconds = load_seconds

    def tokens(self, messages: list[Message]) -> list[int]:
        text = self.template.render(chat_messages(messages))
        return list(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def generate(
        self,
        messages: list[Message],
        sampling: Sampling,
        emit: Callable[[str], None],
        cancel: threading.Event,
        on_start: Callable[[int], None] | None = None,
    ) -> Generation:
        """Generate a reply to `messages`, handing text pieces to `emit` as they are decoded."""
        prompt = self.tokens(messages)
        max_new = reply_room(len(prompt), self.context_length, sampling, on_start)
        stream = TextStream(self._decode, StopMatcher(sampling.stop), emit, cancel)
        cache, todo = self.prompts.start(prompt, len(prompt) + max_new)
        pick = Picker(sampling)
        with torch.inference_mode():
            logits = self.model.forward(torch.tensor(todo), cache)
            while True:
                token = pick(logits)
                if stream.push(token) or token in self.eos_ids or len(stream.ids) >= max_new:
                    break
                logits = self.model.forward(torch.tensor([token]), cache)
        if not self.prompts.keep(cache, prompt + stream.ids):
            del cache, logits
            release_freed_memory()  # a long prompt's activations stayed in glibc's heap (+60 MB)
        stream.finish()
        return Generation(
            text="".join(stream.pieces),
            prompt_tokens=len(prompt),
            completion_tokens=len(stream.ids),
            finish_reason=stream.finish_reason(self.eos_ids, max_new),
        )

    def _decode(self, ids: list[int]) -> str:
        text: str = self.tokenizer.decode(ids, skip_special_tokens=True)
        return text


class Picker:
    """Chooses the next token: the most likely (temperature 0), else sampled with temperature
    and top-p (OpenAI's semantics: no top-k cut), from a generator seeded by `seed` if given."""

    def __init__(self, sampling: Sampling) -> None:
        self.temperature = sampling.temperature
        self.top_p = sampling.top_p if sampling.top_p is not None else 1.0
        self.generator: torch.Generator | None = None
        if self.temperature > 0:
            self.generator = torch.Generator()
            if sampling.seed is None:
                self.generator.seed()
            else:
                self.generator.manual_seed(sampling.seed)

    def __call__(self, logits: torch.Tensor) -> int:
        if self.generator is None:
            return int(logits.argmax())
        probs = torch.softmax(logits / self.temperature, dim=-1)
        if self.top_p < 1.0:
            ordered, order = torch.sort(probs, descending=True)
            before = torch.cumsum(ordered, dim=-1) - ordered  # mass of the likelier tokens
            ordered[before >= self.top_p] = 0  # the most likely token always stays
            probs = torch.zeros_like(probs).scatter_(0, order, ordered)
        return int(torch.multinomial(probs, 1, generator=self.generator))


def eos_ids(config: dict[str, Any], generation_config: Path) -> set[int]:
    found: set[int] = set()
    sources = [config]
    if generation_config.is_file():
        sources.append(json.loads(generation_config.read_text()))
    for source in sources:
        eos = source.get("eos_token_id")
        found.update(eos if isinstance(eos, list) else [eos] if eos is not None else [])
    return found


def load_model(
    path: Path, threads: int, cache_dir: Path | None, dtype: str, scheme: str
) -> TorchModel:
    """Load the GGUF at `path` (converted once, then mapped from `cache_dir`) as `scheme`
    (int4 or none) in `dtype`, and run one token through it so the first request pays no
    warm-up. A damaged cache entry is converted again. int4 computes in bfloat16 whatever
    `dtype` says: torch's int4 kernel has no fast float32 path (40x slower, measured)."""
    torch.set_num_threads(threads)
    if scheme == "int4":
        dtype = "bfloat16"
    started = time.perf_counter()
    entry = prepare_entry(path, cache_dir, scheme, dtype)
    try:
        model = _open(entry)
    except Exception:
        if entry.temporary:
            raise
        discard(entry)
        entry = prepare_entry(path, cache_dir, scheme, dtype)
        model = _open(entry)
    model.generate([Message("user", "Hi")], Sampling(max_new_tokens=1), _ignore, threading.Event())
    model.load_seconds = time.perf_counter() - started
    return model


def _open(entry: Entry) -> TorchModel:
    try:
        return TorchModel(entry.folder)
    finally:
        entry.release()


def _ignore(_: str) -> None:
    """Text sink for the warm-up generation."""
