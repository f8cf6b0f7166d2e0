"""Where the local model's converted weights are kept, and the parts of that which need neither
torch nor transformers: the folder, the serving dtype, the GGUF's hash, the atomic write."""

from __future__ import annotations

import ctypes
import gc
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

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


def write_staged(entry: Path, fill: Callable[[Path], None], marker: str) -> None:
    """Call `fill` on a fresh folder beside `entry`, then rename it into place: a crash or a
    second replica writing the same entry never leaves a half-written one. `marker` names the
    file whose presence says an entry is whole."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=entry.parent))
    try:
        fill(staging)
        try:
            staging.rename(entry)
        except OSError:  # another process renamed its copy first: theirs is as good
            if not (entry / marker).is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def release_freed_memory() -> None:
    """Hand freed memory back to the OS: glibc keeps freed heap memory (a conversion's float32
    copy, a long prompt's activations) in the process otherwise."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass
