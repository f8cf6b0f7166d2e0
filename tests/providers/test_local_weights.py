"""The local model's converted weights are kept on disk: the first load converts the GGUF and
writes a cache entry (atomically), later loads read it; a damaged entry is converted again."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from switchboard.config import Settings
from switchboard.domain import Message
from switchboard.providers.local import locate_gguf
from switchboard.providers.local_generation import Sampling

CONVERTING = "converting"


def answer(model: object) -> str:
    pieces: list[str] = []
    generation = model.generate(  # type: ignore[attr-defined]
        [Message("user", "What is the capital of France?")],
        Sampling(max_new_tokens=12),
        pieces.append,
        threading.Event(),
    )
    assert generation.text == "".join(pieces)
    return generation.text


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache directory whose one entry the first (real, slow) conversion wrote."""
    from switchboard.providers.local_runtime import load_model  # imports torch

    cache = tmp_path_factory.mktemp("weights")
    model = load_model(locate_gguf(Settings()), 1, cache, "bfloat16")
    assert "Paris" in answer(model)
    return cache


def test_converted_once_then_read_from_the_cache(
    converted: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from switchboard.providers.local_runtime import load_model
    from switchboard.providers.local_weights import cache_entry

    gguf = locate_gguf(Settings())
    entry = cache_entry(converted, gguf, "bfloat16")
    assert sorted(p.name for p in converted.iterdir()) == [entry.name]  # no staging left
    assert (entry / "model.safetensors").stat().st_size > 100_000_000
    caplog.set_level(logging.INFO, logger="switchboard.providers.local_weights")
    again = load_model(gguf, 1, converted, "bfloat16")
    assert CONVERTING not in caplog.text
    assert "Paris" in answer(again)
    assert str(again.model.dtype) == "torch.bfloat16"


def fast_conversion(monkeypatch: pytest.MonkeyPatch, source: Path) -> list[Path]:
    """Conversion replaced by a read of a known-good entry (the real one is tested above);
    returns the list of GGUFs it was asked to convert."""
    from switchboard.providers import local_weights

    calls: list[Path] = []

    def convert(gguf: Path, dtype: str) -> tuple[object, object]:
        calls.append(gguf)
        return local_weights.load_cached(source, dtype)

    monkeypatch.setattr(local_weights, "convert_gguf", convert)
    return calls


def test_a_damaged_entry_is_converted_again(
    converted: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from switchboard.providers.local_runtime import load_model
    from switchboard.providers.local_weights import cache_entry

    gguf = locate_gguf(Settings())
    good = cache_entry(converted, gguf, "bfloat16")
    cache = tmp_path / "cache"
    damaged = cache_entry(cache, gguf, "bfloat16")
    damaged.mkdir(parents=True)
    (damaged / "model.safetensors").write_bytes(b"not safetensors")
    calls = fast_conversion(monkeypatch, good)
    model = load_model(gguf, 1, cache, "bfloat16")
    assert calls == [gguf] and "unreadable" in caplog.text
    assert "Paris" in answer(model)
    assert (damaged / "model.safetensors").stat().st_size > 100_000_000
    assert sorted(p.name for p in cache.iterdir()) == [damaged.name]


def test_an_unwritable_cache_still_serves(
    converted: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A cache location that cannot be written: warn, serve the converted weights."""
    from switchboard.providers.local_weights import cache_entry, load_weights

    gguf = locate_gguf(Settings())
    calls = fast_conversion(monkeypatch, cache_entry(converted, gguf, "bfloat16"))
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    model, tokenizer = load_weights(gguf, blocker / "cache", "bfloat16")
    assert calls == [gguf] and "could not be written" in caplog.text
    assert tokenizer is not None and str(model.dtype) == "torch.bfloat16"


def test_entries_are_keyed_by_the_file_and_the_dtype(tmp_path: Path) -> None:
    from switchboard.providers.local_weights import cache_entry, serving_dtype

    one, two = tmp_path / "a.gguf", tmp_path / "b.gguf"
    one.write_bytes(b"weights one")
    two.write_bytes(b"weights two")
    assert cache_entry(tmp_path, one, "bfloat16") != cache_entry(tmp_path, two, "bfloat16")
    assert cache_entry(tmp_path, one, "bfloat16") != cache_entry(tmp_path, one, "float32")
    assert cache_entry(tmp_path, one, "float32") == cache_entry(tmp_path / ".", one, "float32")
    assert serving_dtype("float32") == "float32"
    assert serving_dtype("auto") in ("bfloat16", "float32")
