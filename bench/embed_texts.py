"""`--save-half DIR`: a float16 copy of the shipped MiniLM (44 MB instead of 87) for carrying to
another machine, where bench/vector_recall embeds with `bench.minilm_reference.TransformersMiniLM`
on its GPU.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import numpy as np

from switchboard.embeddings.local import locate_model

FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


def save_half(target: Path) -> int:
    """A float16 copy of the shipped model in `target`; returns its size in bytes."""
    from safetensors.numpy import load_file, save_file

    source = locate_model()
    target.mkdir(parents=True, exist_ok=True)
    weights = load_file(str(source / "model.safetensors"))
    half = {name: value.astype(np.float16) for name, value in weights.items()}
    save_file(half, str(target / "model.safetensors"))
    for name in FILES:
        shutil.copy(source / name, target / name)
    return sum(p.stat().st_size for p in target.iterdir())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--save-half", type=Path, help="write a float16 copy of the model here")
    args = parser.parse_args()
    if args.save_half:
        t0 = time.perf_counter()
        size = save_half(args.save_half)
        print(f"{args.save_half}: {size / 1e6:.1f} MB in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
