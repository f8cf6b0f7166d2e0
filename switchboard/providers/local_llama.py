"""A Llama-architecture decoder in plain torch (SmolLM2 is one): RMSNorm, rotary positions,
grouped-query attention with a key/value cache, SwiGLU, tied embeddings.

It replaces transformers on the serving path, whose import and generation machinery cost
~150 MB of resident memory for a 135M model. The linear layers are callables over whatever
weights local_quant.py made: bfloat16/float32 matrices or torch's packed int4/int8 kernels.
The arithmetic follows transformers' LlamaForCausalLM step for step (norms in float32, rotary
tables in float32 cast to the activations' dtype) so greedy decoding picks the same tokens.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import torch
import torch.nn.functional as F

Linear = Callable[[torch.Tensor], torch.Tensor]


class Rows(Protocol):
    """The embedding: `rows[tokens]` is one row per token (a tensor, or rows read from a file)."""

    def __getitem__(self, tokens: torch.Tensor) -> torch.Tensor: ...


@dataclass(frozen=True, slots=True)
class LlamaShape:
    """The few numbers of a Llama config.json the forward needs."""

    layers: int
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    eps: float
    rope_theta: float
    context_length: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LlamaShape:
        if config.get("model_type") != "llama":
            raise ValueError(f"not a Llama model: {config.get('model_type')}")
        rope = config.get("rope_parameters") or {}
        if rope.get("rope_type", "default") != "default":
            raise ValueError(f"unsupported rotary scaling {rope.get('rope_type')}")
        heads = int(config["num_attention_heads"])
        hidden = int(config["hidden_size"])
        return cls(
            layers=int(config["num_hidden_layers"]),
            hidden=hidden,
            heads=heads,
            kv_heads=int(config.get("num_key_value_heads") or heads),
            head_dim=int(config.get("head_dim") or hidden // heads),
            eps=float(config["rms_norm_eps"]),
            rope_theta=float(rope.get("rope_theta", config.get("rope_theta", 10000.0))),
            context_length=int(config.get("max_position_embeddings", 2048)),
        )


@dataclass(slots=True)
class Block:
    """One decoder layer's weights."""

    attn_norm: torch.Tensor
    q: Linear
    k: Linear
    v: Linear
    o: Linear
    mlp_norm: torch.Tensor
    gate: Linear
    up: Linear
    down: Linear


class KVCache:
    """Keys and values of every layer for one sequence, sized for it up front."""

    def __init__(self, shape: LlamaShape, capacity: int, dtype: torch.dtype) -> None:
        size = (shape.layers, shape.kv_heads, capacity, shape.head_dim)
        self.keys = torch.empty(size, dtype=dtype)
        self.values = torch.empty(size, dtype=dtype)
        self.length = 0


class Llama:
    """The decoder; `forward` takes the next tokens and returns the last position's logits."""

    def __init__(
        self,
        shape: LlamaShape,
        embedding: Rows,
        blocks: list[Block],
        final_norm: torch.Tensor,
        lm_head: Linear,
        residual: torch.dtype | None = None,
    ) -> None:
        self.shape = shape
        self.embedding = embedding
        self.blocks = blocks
        self.final_norm = final_norm
        self.lm_head = lm_head
        self.dtype = final_norm.dtype
        self.residual = residual or self.dtype  # the stream the layers add to
        self.cos, self.sin = rotary_tables(shape, self.dtype)

    def new_cache(self, capacity: int) -> KVCache:
        return KVCache(self.shape, min(capacity, self.shape.context_length), self.dtype)

    def forward(self, tokens: torch.Tensor, cache: KVCache) -> torch.Tensor:
        """Logits (float32, one row) after `tokens` (1-D), appended to `cache`."""
        start, count = cache.length, tokens.shape[0]
        end = start + count
        cos, sin = self.cos[start:end], self.sin[start:end]
        h = self.embedding[tokens].to(self.residual)
        eps = self.shape.eps
        for index, block in enumerate(self.blocks):
            x = rms_norm(h, block.attn_norm, eps, self.dtype)
            h = h + block.o(self._attend(index, block, x, cos, sin, cache, start, end))
            x = rms_norm(h, block.mlp_norm, eps, self.dtype)
            h = h + block.down(F.silu(block.gate(x)) * block.up(x))
        cache.length = end
        last = rms_norm(h[-1:], self.final_norm, eps, self.dtype)
        return self.lm_head(last)[0].float()

    def _attend(
        self,
        index: int,
        block: Block,
        x: torch.Tensor,
        cos: torch.Tensor,
        sin: torch.Tensor,
        cache: KVCache,
        start: int,
        end: int,
    ) -> torch.Tensor:
        shape, count = self.shape, x.shape[0]
        q = block.q(x).view(count, shape.heads, shape.head_dim).transpose(0, 1)
        k = block.k(x).view(count, shape.kv_heads, shape.head_dim).transpose(0, 1)
        v = block.v(x).view(count, shape.kv_heads, shape.head_dim).transpose(0, 1)
        cache.keys[index, :, start:end] = rotate(k, cos, sin)
        cache.values[index, :, start:end] = v
        mask = None
        if start > 0 and count > 1:  # new tokens after cached ones: each sees up to itself
            mask = torch.ones(count, end, dtype=torch.bool).tril(diagonal=start)
        out = F.scaled_dot_product_attention(
            rotate(q, cos, sin)[None],
            cache.keys[index, :, :end][None],
            cache.values[index, :, :end][None],
            attn_mask=mask,
            is_causal=start == 0 and count > 1,
            enable_gqa=True,
        )
        return out[0].transpose(0, 1).reshape(count, shape.heads * shape.head_dim)


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float, dtype: torch.dtype) -> torch.Tensor:
    """Normalised in float32, scaled in `dtype` (the layers' input type)."""
    wide = x.float()
    wide = wide * torch.rsqrt(wide.pow(2).mean(-1, keepdim=True) + eps)
    return weight * wide.to(dtype)


def rotary_tables(shape: LlamaShape, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin of every position's rotation angles, computed in float32 then cast."""
    half = torch.arange(0, shape.head_dim, 2, dtype=torch.int64).float() / shape.head_dim
    inv_freq = 1.0 / (shape.rope_theta**half)
    positions = torch.arange(shape.context_length, dtype=torch.float32)
    angles = torch.outer(positions, inv_freq)
    both = torch.cat((angles, angles), dim=-1)
    return both.cos().to(dtype), both.sin().to(dtype)


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    turned = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + turned * sin
