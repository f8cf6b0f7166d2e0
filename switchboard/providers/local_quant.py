"""Weight-only quantised linear layers on torch's own CPU kernels, and the round trip from float
weights to what the cache stores and back to a Llama (local_llama.py).

`int4`: the layers' matrices in groups of 32 input columns, each with a scale and an offset
(torch's `_weight_int4pack_mm_for_cpu`). The GGUF's Q4_1 tensors are exactly that shape (blocks
of 32, `d * q + m`), and the Q4_1 quantiser puts the block's minimum at q=0 and its maximum at
q=15, so re-quantising the de-quantised values by their min and max recovers the same integers.
The output projection (tied to the embedding, Q8_0 in the GGUF) is int8 with a scale per row
(`_weight_int8pack_mm`); the embedding itself stays in the serving dtype, memory-mapped, so only
the rows of tokens actually seen become resident. `none`: every matrix in the serving dtype.
The packed int4 layout is the CPU kernel's own, so cache entries name the torch version and the
CPU capability they were packed for.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from switchboard.providers.local_llama import Block, Linear, Llama, LlamaShape, Rows

GROUP = 32
UNPACK_FROM_ROWS = 96  # measured crossover of the two int4 paths (one thread, AVX-512)
QUANTISED = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
EMBEDDING = "model.embed_tokens.weight"
HEAD_INT8 = "lm_head.weight.int8"
SAFETENSORS_DTYPES = {"BF16": torch.bfloat16, "F32": torch.float32, "F16": torch.float16}


def quantise_int4(weight: torch.Tensor, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """(packed, scales_and_zeros) of a [N, K] matrix: groups of 32 along K, 16 levels between
    the group's min and max; torch's formula is w = (q - 8) * scale + zero."""
    rows, cols = weight.shape
    groups = weight.float().reshape(rows, cols // GROUP, GROUP)
    low, high = groups.amin(-1), groups.amax(-1)
    scale = ((high - low) / 15).clamp(min=torch.finfo(torch.float32).tiny)
    levels = torch.round((groups - low[..., None]) / scale[..., None]).clamp(0, 15)
    packed = torch.ops.aten._convert_weight_to_int4pack_for_cpu(
        levels.reshape(rows, cols).to(torch.int32), 1
    )
    zero = low + 8 * scale
    scales_and_zeros = torch.stack([scale.t(), zero.t()], dim=-1).to(dtype).contiguous()
    return packed, scales_and_zeros


def quantise_int8_rows(
    weight: torch.Tensor, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor]:
    """(int8 matrix, per-row scale): symmetric, 127 levels each side of zero."""
    wide = weight.float()
    scale = (wide.abs().amax(-1) / 127).clamp(min=torch.finfo(torch.float32).tiny)
    levels = torch.round(wide / scale[:, None]).clamp(-127, 127).to(torch.int8)
    return levels.contiguous(), scale.to(dtype)


def quantise_state(
    state: Mapping[str, torch.Tensor], scheme: str, dtype: torch.dtype
) -> dict[str, torch.Tensor]:
    """The tensors a cache entry stores, from a float LlamaForCausalLM state dict."""
    head = state.get("lm_head.weight", state[EMBEDDING])
    tied = head.data_ptr() == state[EMBEDDING].data_ptr()
    out: dict[str, torch.Tensor] = {}
    for name, tensor in state.items():
        if name == "lm_head.weight" and (tied or scheme == "int4"):
            continue  # tied to the embedding (stored once), or stored as int8 below
        if scheme == "int4" and name.split(".")[-2] in QUANTISED:
            out[name + ".int4"], out[name + ".int4_scales"] = quantise_int4(tensor, dtype)
        else:
            out[name] = tensor.to(dtype).contiguous()
    if scheme == "int4":
        out[HEAD_INT8], out[HEAD_INT8 + "_scales"] = quantise_int8_rows(head, dtype)
    return out


def dense(weight: torch.Tensor) -> Linear:
    return lambda x: F.linear(x, weight)


class Int4Linear:
    """x @ W.T for a packed int4 W. torch's kernel does one matrix-vector product per row of x,
    which suits decoding (one row); a long prompt is faster through W unpacked to the dtype
    (once per call) and one matrix product, where the packed layout is the one we can read."""

    def __init__(self, packed: torch.Tensor, scales_and_zeros: torch.Tensor, unpack: bool) -> None:
        self.packed = packed
        self.scales_and_zeros = scales_and_zeros
        self.unpack = unpack

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.unpack and x.shape[0] >= UNPACK_FROM_ROWS:
            return x @ unpack_int4(self.packed, self.scales_and_zeros)
        return torch.ops.aten._weight_int4pack_mm_for_cpu(
            x, self.packed, GROUP, self.scales_and_zeros
        )


def unpack_int4(packed: torch.Tensor, scales_and_zeros: torch.Tensor) -> torch.Tensor:
    """W.T ([K, N]) from torch's AVX-512 layout: for each block of 64 rows, K runs of 32 bytes,
    byte j holding row j (low nibble) and row 32 + j (high nibble)."""
    rows, cols = packed.shape[0], packed.shape[1] * 2
    runs = packed.view(rows // 64, cols, 32).transpose(0, 1)
    levels = torch.empty(cols, rows // 64, 2, 32, dtype=scales_and_zeros.dtype)
    levels[:, :, 0] = runs & 15
    levels[:, :, 1] = runs >> 4
    scale, zero = scales_and_zeros[..., 0], scales_and_zeros[..., 1]
    low = (zero.float() - 8 * scale.float()).to(scale.dtype)
    grouped = levels.view(cols // GROUP, GROUP, rows)
    return torch.addcmul(low[:, None, :], grouped, scale[:, None, :]).view(cols, rows)


def can_unpack(dtype: torch.dtype) -> bool:
    """Whether this torch and CPU pack int4 the way unpack_int4 reads (checked on a sample)."""
    generator = torch.Generator().manual_seed(0)
    weight = torch.randn(128, 2 * GROUP, generator=generator)
    packed, scales_and_zeros = quantise_int4(weight, dtype)
    probe = torch.eye(2 * GROUP, dtype=dtype)
    expected = torch.ops.aten._weight_int4pack_mm_for_cpu(probe, packed, GROUP, scales_and_zeros)
    try:
        error = (unpack_int4(packed, scales_and_zeros).float() - expected.float()).norm()
    except RuntimeError:  # another layout's shape
        return False
    return bool(error < 0.01 * expected.float().norm())  # rounding apart, the same matrix


def int8(levels: torch.Tensor, scales: torch.Tensor) -> Linear:
    return lambda x: torch.ops.aten._weight_int8pack_mm(x, levels, scales)


def linear(tensors: Mapping[str, torch.Tensor], name: str, unpack: bool) -> Linear:
    if name + ".int4" in tensors:
        return Int4Linear(tensors[name + ".int4"], tensors[name + ".int4_scales"], unpack)
    return dense(tensors[name])


def build_llama(
    config: Mapping[str, Any], tensors: Mapping[str, torch.Tensor], embedding: Rows | None = None
) -> Llama:
    """A Llama over the stored tensors (memory-mapped ones stay mapped: nothing is copied);
    `embedding` replaces the stored embedding's rows (see FileRows)."""
    shape = LlamaShape.from_config(config)
    norm = tensors["model.norm.weight"]
    unpack = HEAD_INT8 in tensors and can_unpack(norm.dtype)
    blocks = []
    for index in range(shape.layers):
        at = f"model.layers.{index}."
        blocks.append(
            Block(
                attn_norm=tensors[at + "input_layernorm.weight"],
                q=linear(tensors, at + "self_attn.q_proj.weight", unpack),
                k=linear(tensors, at + "self_attn.k_proj.weight", unpack),
                v=linear(tensors, at + "self_attn.v_proj.weight", unpack),
                o=linear(tensors, at + "self_attn.o_proj.weight", unpack),
                mlp_norm=tensors[at + "post_attention_layernorm.weight"],
                gate=linear(tensors, at + "mlp.gate_proj.weight", unpack),
                up=linear(tensors, at + "mlp.up_proj.weight", unpack),
                down=linear(tensors, at + "mlp.down_proj.weight", unpack),
            )
        )
    if HEAD_INT8 in tensors:
        head = int8(tensors[HEAD_INT8], tensors[HEAD_INT8 + "_scales"])
    else:
        head = dense(tensors.get("lm_head.weight", tensors[EMBEDDING]))
    # int4's extra rounding, added up in a bfloat16 residual stream over 30 layers, changed
    # answers (France's capital among them): the stream is kept in float32 then.
    residual = torch.float32 if HEAD_INT8 in tensors else None
    rows = tensors[EMBEDDING] if embedding is None else embedding
    return Llama(shape, rows, blocks, norm, head, residual)


class FileRows:
    """A safetensors matrix read a row at a time with pread, never mapped: with int4 the
    embedding is used only for lookups, and mapped, every lookup would bring its neighbours'
    pages in too (fault-around), until all 56 MB were resident."""

    def __init__(self, path: Path, name: str) -> None:
        with path.open("rb") as f:
            size = int.from_bytes(f.read(8), "little")
            described = json.loads(f.read(size))[name]
        if described["dtype"] not in SAFETENSORS_DTYPES:
            raise ValueError(f"{name} is {described['dtype']}")
        self.dtype = SAFETENSORS_DTYPES[described["dtype"]]
        self.rows, self.cols = described["shape"]
        self.row_bytes = self.cols * self.dtype.itemsize
        self.start = 8 + size + described["data_offsets"][0]
        self.fd = os.open(path, os.O_RDONLY)  # kept: the folder may be a temporary one

    def __getitem__(self, tokens: torch.Tensor) -> torch.Tensor:
        out = torch.empty(len(tokens), self.row_bytes, dtype=torch.uint8)
        buffer = out.numpy()
        for index, token in enumerate(tokens.tolist()):
            if not 0 <= token < self.rows:
                raise IndexError(f"token {token} is outside the vocabulary")
            os.preadv(self.fd, [buffer[index]], self.start + token * self.row_bytes)
        return out.view(self.dtype)

    def __del__(self) -> None:
        with contextlib.suppress(OSError, AttributeError):
            os.close(self.fd)
