"""MiniLM's BERT encoder as a short forward pass over plain torch ops (no `transformers` model).

The same weights and the same arithmetic as `transformers.BertModel` in eval mode (absolute
positions, token type 0, post-layer-norm blocks, exact GELU), minus what a sentence embedding does
not need: no pooler, no dropout, no output records, no per-call Python bookkeeping. Two changes
of layout make each matrix product cheaper without changing its result: the weights are stored
transposed (input-major, what a row-major GEMM reads straight through) and each layer's query,
key and value projections are one product. With the Python overhead gone, one short text costs
~1.8x less CPU on a quiet core; on a busy one the pass is bound by reading the ~42 MB of float32
weights from memory and the gain shrinks (docs/benchmarks.md, "Embeddings"), which the bf16
precision below (half the bytes) addresses.

One text runs unpadded with no attention mask; a batch is padded and masked.

`precision="bf16"` keeps the weights of the matrix products in bfloat16, packed once at load into
oneDNN's blocked layout (the CPU's AMX / AVX-512 BF16 units run them), and the rest (embeddings,
residual sums, layer norms, attention) in float32. Each product's inputs are rounded to bfloat16
and it accumulates in float32 (the feed-forward's GELU runs on that accumulator, inside the same
kernel): embeddings move by a cosine of ~1e-5 against float32, for roughly half the CPU again.
`bf16_supported()` says whether this CPU has native bf16.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


PRECISIONS = ("fp32", "bf16")


def bf16_supported() -> bool:
    """Whether oneDNN runs bfloat16 natively here (AVX-512 BF16 or AMX); else bf16 is emulated
    and slower than float32."""
    import torch

    try:
        return bool(
            torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
        )
    except (AttributeError, RuntimeError):
        return False


def pack_bf16(weight: torch.Tensor) -> torch.Tensor:
    """A (out, in) float weight as bfloat16 in oneDNN's blocked layout, for `_linear_pointwise`."""
    import torch

    return torch.ops.mkldnn._reorder_linear_weight(weight.bfloat16(), None)


class _Dense:
    """`x @ weight.T + bias` (then GELU if `gelu`) for a (rows, in) `x`, with the weight laid
    out for speed."""

    def __init__(
        self, weight: torch.Tensor, bias: torch.Tensor, precision: str, gelu: bool = False
    ) -> None:
        import torch

        self._torch = torch
        self.bf16 = precision == "bf16"
        self.gelu = gelu
        if self.bf16:  # packed once into oneDNN's blocked layout
            self.weight = pack_bf16(weight)
            self.bias = bias.bfloat16()
        else:  # transposed: (in, out), read row by row by the GEMM
            self.weight = weight.t().contiguous()
            self.bias = bias

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """float32 out; in bf16 with `gelu`, bfloat16 out (it only feeds the next product)."""
        torch = self._torch
        if self.bf16:
            if self.gelu:  # exact (erf) GELU applied to the float32 accumulator, in the kernel
                return torch.ops.mkldnn._linear_pointwise(
                    x.bfloat16(), self.weight, self.bias, "gelu", [], "none"
                )
            out = torch.ops.mkldnn._linear_pointwise(
                x.bfloat16(), self.weight, self.bias, "none", [], ""
            )
            return out.float()
        out = torch.addmm(self.bias, x, self.weight)
        return torch.nn.functional.gelu(out) if self.gelu else out


@dataclass(frozen=True, slots=True)
class _Layer:
    qkv: _Dense  # hidden -> 3 * hidden: query, key, value side by side
    out: _Dense
    norm1: tuple[torch.Tensor, torch.Tensor]
    up: _Dense  # hidden -> intermediate, then GELU
    down: _Dense
    norm2: tuple[torch.Tensor, torch.Tensor]


class BertEncoder:
    """Loads `model.safetensors` + `config.json` from a BERT folder; `forward` gives the last
    hidden states. Call from one thread at a time (torch ops only, no state between calls)."""

    def __init__(self, path: Path, precision: str = "fp32") -> None:
        import torch
        from safetensors.torch import load_file

        config = json.loads((path / "config.json").read_text())
        if config.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError("only absolute position embeddings are supported")
        if config.get("hidden_act") != "gelu":
            raise ValueError(f"unsupported activation {config.get('hidden_act')!r}")
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
        self._torch = torch
        self.precision = precision
        self.hidden = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])
        self.max_positions = int(config["max_position_embeddings"])
        weights = load_file(str(path / "model.safetensors"))
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in weights else ""

        def get(name: str) -> torch.Tensor:
            return weights[prefix + name].float().contiguous()

        def norm(name: str) -> tuple[torch.Tensor, torch.Tensor]:
            return get(f"{name}.weight"), get(f"{name}.bias")

        def dense(*names: str, gelu: bool = False) -> _Dense:
            weight = torch.cat([get(f"{name}.weight") for name in names])
            bias = torch.cat([get(f"{name}.bias") for name in names])
            return _Dense(weight, bias, precision, gelu)

        self.words = get("embeddings.word_embeddings.weight")
        self.positions = get("embeddings.position_embeddings.weight")
        self.type0 = get("embeddings.token_type_embeddings.weight")[0]
        self.norm0 = norm("embeddings.LayerNorm")
        self.layers: list[_Layer] = []
        for i in range(int(config["num_hidden_layers"])):
            at = f"encoder.layer.{i}.attention"
            self.layers.append(
                _Layer(
                    qkv=dense(*(f"{at}.self.{part}" for part in ("query", "key", "value"))),
                    out=dense(f"{at}.output.dense"),
                    norm1=norm(f"{at}.output.LayerNorm"),
                    up=dense(f"encoder.layer.{i}.intermediate.dense", gelu=True),
                    down=dense(f"encoder.layer.{i}.output.dense"),
                    norm2=norm(f"encoder.layer.{i}.output.LayerNorm"),
                )
            )

    def forward(self, ids: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """`ids` (batch, length) int64; `mask` (batch, length), 1 for real tokens, or None when
        no row is padded. Returns (batch, length, hidden) float32. Run under inference_mode."""
        torch = self._torch
        f = torch.nn.functional
        batch, length = ids.shape
        if length > self.max_positions:
            raise ValueError(f"{length} tokens exceed the model's {self.max_positions}")
        hidden, heads = self.hidden, self.heads
        x = self.words[ids] + self.positions[:length] + self.type0
        x = f.layer_norm(x, (hidden,), *self.norm0, eps=self.eps).view(batch * length, hidden)
        attend = None if mask is None else mask.bool().view(batch, 1, 1, length)
        for layer in self.layers:
            qkv = layer.qkv(x)
            q, k, v = qkv.view(batch, length, 3, heads, hidden // heads).permute(2, 0, 3, 1, 4)
            context = f.scaled_dot_product_attention(q, k, v, attn_mask=attend)
            context = context.transpose(1, 2).reshape(batch * length, hidden)
            x = f.layer_norm(layer.out(context) + x, (hidden,), *layer.norm1, eps=self.eps)
            x = f.layer_norm(layer.down(layer.up(x)) + x, (hidden,), *layer.norm2, eps=self.eps)
        return x.view(batch, length, hidden)
