"""The local model's weights, converted once: GGUF -> safetensors in a cache directory.

transformers reads a GGUF by de-quantising every tensor (tens of seconds for 135M parameters);
the first start does that, casts to the serving dtype and writes the result (config, tokenizer,
`model.safetensors`) under a folder named by the GGUF's SHA-256 and the dtype. The folder is
written beside its final name and renamed into place, so a crash or a second replica writing the
same entry never leaves a half-written one. Later starts load the safetensors, memory-mapped, in
about a second. Runs on the local model's worker thread, like every torch call.
"""

from __future__ import annotations

import ctypes
import gc
import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_model
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel

log = logging.getLogger(__name__)

FORMAT = "v1"  # bump when what is written changes
DTYPES = {"bfloat16": torch.bfloat16, "float32": torch.float32}
_HASH_CHUNK = 1 << 20


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "switchboard" / "local-model"


def serving_dtype(choice: str) -> str:
    """`auto`: bfloat16 where the CPU computes it natively (AVX512-BF16 or AMX), else float32,
    which emulated bfloat16 would make slower."""
    if choice != "auto":
        return choice
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return "float32"
    return "bfloat16" if ("avx512_bf16" in flags or "amx_bf16" in flags) else "float32"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


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


def write_entry(entry: Path, model: PreTrainedModel, tokenizer: Any, dtype: str) -> None:
    """Write the converted weights beside `entry` and rename them into place."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=entry.parent))
    try:
        config = model.config
        if hasattr(config, "quantization_config"):  # it describes the GGUF, not these weights
            del config.quantization_config
        config.dtype = dtype
        config.save_pretrained(str(staging))
        model.generation_config.save_pretrained(str(staging))
        tokenizer.save_pretrained(str(staging))
        save_model(model, str(staging / "model.safetensors"))  # tied weights written once
        try:
            staging.rename(entry)
        except OSError:  # another process renamed its copy first: theirs is as good
            if not (entry / "model.safetensors").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


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


def release_freed_memory() -> None:
    """Hand the conversion's freed float32 copy back to the OS (glibc keeps it otherwise)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass
