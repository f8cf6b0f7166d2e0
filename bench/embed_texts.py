"""Embed many texts with the shipped MiniLM, on CPU (float32) or a GPU (float16), for benchmarks.

The same computation as `switchboard.embeddings.local.MiniLM.encode` (WordPiece to 256 tokens,
mean pooling over the attention mask, L2 normalisation), batched large and sorted by length so
a GPU is kept busy. `--save-half DIR` writes a float16 copy of the model (44 MB instead of 87)
for carrying to another machine.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import numpy as np

from switchboard.embeddings.local import DIMENSIONS, MAX_TOKENS, locate_model

FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


class Encoder:
    def __init__(self, path: Path | None = None, device: str = "cpu", half: bool = False) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        folder = locate_model(path)
        self.torch = torch
        self.device = device
        self.tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        dtype = torch.float16 if half else torch.float32
        model = AutoModel.from_pretrained(str(folder), local_files_only=True, dtype=dtype)
        self.model = model.to(device).eval()

    def encode(self, texts: list[str], batch: int = 256) -> np.ndarray:
        """Unit rows (float32), one per text, in order."""
        torch = self.torch
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), batch):
                rows = order[start : start + batch]
                tokens = self.tokenizer(
                    [texts[i] for i in rows],
                    padding=True,
                    truncation=True,
                    max_length=MAX_TOKENS,
                    return_tensors="pt",
                ).to(self.device)
                hidden = self.model(**tokens).last_hidden_state.float()
                mask = tokens["attention_mask"].unsqueeze(-1).float()
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out[rows] = torch.nn.functional.normalize(pooled, p=2, dim=1).cpu().numpy()
        return out


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
