"""The transformers runtime's weights (SWITCHBOARD_LOCAL_RUNTIME=transformers), converted once:
GGUF -> safetensors in a cache directory. Its `convert_gguf` and `save_description` also do the
reading for the default runtime's conversion (local_pack.py, in a child process).

transformers reads a GGUF by de-quantising every tensor (tens of seconds for 135M parameters);
the first start does that, casts to the serving dtype and writes the result (config, tokenizer,
`model.safetensors`) under a folder named by the GGUF's SHA-256 and the dtype. The folder is
written beside its final name and renamed into place, so a crash or a second replica writing the
same entry never leaves a half-written one. Later starts load the safetensors, memory-mapped, in
about a second. Runs on the local model's worker thread, like every torch call.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_model
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel

from switchboard.providers.local_cache import (
    default_cache_dir,
    file_sha256,
    release_freed_memory,
    serving_dtype,
    write_staged,
)

__all__ = ["default_cache_dir", "file_sha256", "load_weights", "serving_dtype"]

log = logging.getLogger(__name__)

FORMAT = "v1"  # bump when what is written changes
DTYPES = {"bfloat16": torch.bfloat16, "float32": torch.float32}


def cache_entry(cache_dir: Path, gguf: Path, dtype: str) -> Path:
    return cache_dir / f"{file_sha256(gguf)[:32]}-{dtype}-{FORMAT}"


def load_cached(entry: Path, dtype: str) -> tuple[PreTrainedModel, Any]:
    tokenizer = AutoTokenizer.from_pretrained(str(entry))
    model = AutoModelForCausalLM.from_pretrained(str(entry), dtype=DTYPES[dtype])
    return model, tokenizer


def convert_gguf(gguf: Path, dtype: str) -> tuple[PreTrainedModel, Any]:
    """The slow path: de-quantise the GGUF with transformers, then cast."""
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
    )
    return model.to(DTYPES[dtype]), tokenizer  # type: ignore[arg-type]


def save_description(folder: Path, model: PreTrainedModel, tokenizer: Any, dtype: str) -> None:
    """config.json, generation_config.json and the tokenizer's files (with its chat template)."""
    config = model.config
    if hasattr(config, "quantization_config"):  # it describes the GGUF, not these weights
        del config.quantization_config
    config.dtype = dtype
    config.save_pretrained(str(folder))
    model.generation_config.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))


def write_entry(entry: Path, model: PreTrainedModel, tokenizer: Any, dtype: str) -> None:
    """Write the converted weights beside `entry` and rename them into place."""

    def fill(staging: Path) -> None:
        save_description(staging, model, tokenizer, dtype)
        save_model(model, str(staging / "model.safetensors"))  # tied weights written once

    write_staged(entry, fill, "model.safetensors")


def load_weights(gguf: Path, cache_dir: Path | None, dtype: str) -> tuple[PreTrainedModel, Any]:
    """The model and tokenizer for `gguf`, from the cache when it has them; `cache_dir` None:
    convert every start (nothing written)."""
    if cache_dir is None:
        return convert_gguf(gguf, dtype)
    entry = cache_entry(cache_dir, gguf, dtype)
    if (entry / "model.safetensors").is_file():
        try:
            return load_cached(entry, dtype)
        except Exception as exc:  # a damaged entry: convert again over it
            log.warning("local model cache %s is unreadable (%s); converting again", entry, exc)
            shutil.rmtree(entry, ignore_errors=True)
    log.info("converting %s to %s once; later starts read %s", gguf.name, dtype, entry)
    model, tokenizer = convert_gguf(gguf, dtype)
    try:
        write_entry(entry, model, tokenizer, dtype)
    except OSError as exc:  # a read-only or full disk: serve anyway, convert again next start
        log.warning("local model cache %s could not be written: %s", entry, exc)
        return model, tokenizer
    del model  # serve from the mapped file, as later starts will: less resident memory
    release_freed_memory()
    return load_cached(entry, dtype)
