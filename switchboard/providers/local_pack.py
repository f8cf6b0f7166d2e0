"""The plain-torch runtime's weights: converted once, by a child process, into a cache entry
that later starts memory-map.

Converting needs transformers (it reads the GGUF: tensor names, the rotary permutation, the
tokenizer); serving does not. The conversion therefore runs in `python -m
switchboard.providers.local_pack`, so the gateway never imports transformers and none of the
conversion's float32 copies stay in its memory. The entry holds config.json,
generation_config.json, tokenizer.json and the chat template, and `model.safetensors` with the
weights as local_quant.py stores them. It is named by the GGUF's SHA-256, the quantisation, the
dtype, and the torch version and CPU capability (the int4 layout is the CPU kernel's own).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

from switchboard.providers.local_cache import file_sha256, write_staged

log = logging.getLogger(__name__)

FORMAT = "v2"  # bump when what is written changes
WEIGHTS = "model.safetensors"
DTYPES = {"bfloat16": torch.bfloat16, "float32": torch.float32}
CONVERT_TIMEOUT_S = 1800


def cache_entry(cache_dir: Path, gguf: Path, scheme: str, dtype: str) -> Path:
    kernels = f"torch{torch.__version__.split('+')[0]}-{torch.backends.cpu.get_cpu_capability()}"
    return cache_dir / f"{file_sha256(gguf)[:32]}-{scheme}-{dtype}-{kernels.lower()}-{FORMAT}"


def convert_in_child(gguf: Path, out: Path, scheme: str, dtype: str) -> None:
    """Write an entry's files into the folder `out` from another Python process."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    command = [sys.executable, "-m", __name__, str(gguf), str(out), scheme, dtype]
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=CONVERT_TIMEOUT_S, check=False
    )
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        raise RuntimeError(f"converting {gguf.name} failed: {tail[0]}")


class Entry:
    """A readable entry folder; a temporary one (no cache) is removed once its files are mapped
    (a mapped file outlives its name on POSIX)."""

    def __init__(self, folder: Path, temporary: bool = False) -> None:
        self.folder = folder
        self.temporary = temporary

    def release(self) -> None:
        if self.temporary:
            shutil.rmtree(self.folder.parent, ignore_errors=True)


def prepare_entry(gguf: Path, cache_dir: Path | None, scheme: str, dtype: str) -> Entry:
    """The entry for `gguf`: from the cache, or converted now (and cached when possible)."""
    if cache_dir is not None:
        entry = cache_entry(cache_dir, gguf, scheme, dtype)
        if (entry / WEIGHTS).is_file():
            return Entry(entry)
        log.info(
            "converting %s to %s/%s once; later starts read %s", gguf.name, scheme, dtype, entry
        )
        try:
            write_staged(
                entry, lambda staging: convert_in_child(gguf, staging, scheme, dtype), WEIGHTS
            )
            return Entry(entry)
        except OSError as exc:  # a read-only or full disk: serve anyway, convert again next start
            log.warning("local model cache %s could not be written: %s", entry, exc)
    folder = Path(tempfile.mkdtemp(prefix="switchboard-local-")) / "entry"
    folder.mkdir()
    try:
        convert_in_child(gguf, folder, scheme, dtype)
    except BaseException:
        shutil.rmtree(folder.parent, ignore_errors=True)
        raise
    return Entry(folder, temporary=True)


def discard(entry: Entry) -> None:
    """Remove a damaged cache entry so that the next prepare_entry converts again."""
    shutil.rmtree(entry.folder, ignore_errors=True)


def convert(gguf: Path, out: Path, scheme: str, dtype: str) -> None:
    """The child's work: de-quantise with transformers, quantise our way, write the files."""
    from safetensors.torch import save_file

    from switchboard.providers.local_quant import quantise_state
    from switchboard.providers.local_weights import convert_gguf, save_description

    model, tokenizer = convert_gguf(gguf, "float32")
    save_description(out, model, tokenizer, dtype)
    tensors = quantise_state(model.state_dict(), scheme, DTYPES[dtype])
    save_file(tensors, str(out / WEIGHTS))


if __name__ == "__main__":
    gguf_arg, out_arg, scheme_arg, dtype_arg = sys.argv[1:5]
    convert(Path(gguf_arg), Path(out_arg), scheme_arg, dtype_arg)
