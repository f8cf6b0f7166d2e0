"""The default local runtime: our Llama forward on torch (local_torch.py), against transformers
on the same weights, with int4 weights, its cache entries, prompt reuse and cancellation."""

from __future__ import annotations

import logging
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from switchboard.config import Settings
from switchboard.domain import Message
from switchboard.providers.local import locate_gguf
from switchboard.providers.local_generation import Generation, Sampling

torch = pytest.importorskip("torch")

PROMPTS = [
    "What is the capital of France?",
    "Write two sentences about the sea.",
    "List three colors.",
    "Explain what a CPU does in one sentence.",
    "Give me a tip for learning to cook.",
    "What is the largest planet in the solar system?",
]


def generate(model: object, text: str, tokens: int = 24, **kw: object) -> Generation:
    pieces: list[str] = []
    result: Generation = model.generate(  # type: ignore[attr-defined]
        [Message("user", text)],
        Sampling(max_new_tokens=tokens, **kw),
        pieces.append,
        threading.Event(),
    )
    assert result.text == "".join(pieces)
    return result


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("weights")


@pytest.fixture(scope="module")
def reference(cache: Path) -> object:
    """The transformers runtime in bfloat16 (SWITCHBOARD_LOCAL_RUNTIME=transformers)."""
    from switchboard.providers.local_runtime import load_model

    return load_model(locate_gguf(Settings()), 1, cache, "bfloat16")


@pytest.fixture(scope="module")
def dense(cache: Path) -> object:
    from switchboard.providers.local_torch import load_model

    return load_model(locate_gguf(Settings()), 1, cache, "bfloat16", "none")


@pytest.fixture(scope="module")
def int4(cache: Path) -> object:
    from switchboard.providers.local_torch import load_model

    return load_model(locate_gguf(Settings()), 1, cache, "bfloat16", "int4")


def test_greedy_tokens_match_transformers_in_bfloat16(reference: object, dense: object) -> None:
    """Token for token, each prompt run whole (a reused prefix runs in a different-sized
    matrix product, which in bfloat16 may round differently)."""
    for text in PROMPTS:
        dense.prompts.cache = None  # type: ignore[attr-defined]
        ours, theirs = generate(dense, text), generate(reference, text)
        assert (ours.text, ours.completion_tokens) == (theirs.text, theirs.completion_tokens)
        assert (
            ours.prompt_tokens == theirs.prompt_tokens
            and ours.finish_reason == theirs.finish_reason
        )


def test_int4_gives_the_same_answers(reference: object, int4: object) -> None:
    assert generate(int4, PROMPTS[0]).text == "The capital of France is Paris."
    same = [generate(int4, text).text == generate(reference, text).text for text in PROMPTS]
    # 24 greedy tokens word for word; measured 5 of 6 (the CPU prompt words its answer apart)
    assert sum(same) >= 4, same


def test_a_reused_prompt_prefix_changes_nothing(int4: object) -> None:
    """The kept key/value cache is reused up to where prompts differ; a fresh cache agrees."""
    generate(int4, PROMPTS[1])
    shared = generate(int4, PROMPTS[2])  # shares the system prompt with the one before
    again = generate(int4, PROMPTS[2])  # shares everything but the last token
    int4.prompts.cache = None  # type: ignore[attr-defined]
    fresh = generate(int4, PROMPTS[2])
    assert shared.text == again.text == fresh.text


def test_sampling_repeats_with_a_seed_and_tiny_top_p_is_greedy(int4: object) -> None:
    one = generate(int4, "Tell me a story.", temperature=0.9, seed=7)
    two = generate(int4, "Tell me a story.", temperature=0.9, seed=7)
    other = generate(int4, "Tell me a story.", temperature=0.9, seed=8)
    assert one.text == two.text != other.text
    narrow = generate(int4, "Tell me a story.", temperature=1.0, top_p=1e-6, seed=3)
    assert narrow.text == generate(int4, "Tell me a story.").text


def test_stop_strings_and_length(int4: object) -> None:
    cut = generate(int4, PROMPTS[0], stop=["Paris"])
    assert cut.text == "The capital of France is " and cut.finish_reason == "stop"
    short = generate(int4, PROMPTS[1], tokens=3)
    assert short.completion_tokens == 3 and short.finish_reason == "length"


def test_cancel_stops_within_a_token(int4: object) -> None:
    cancel = threading.Event()
    seen: list[str] = []

    def emit(text: str) -> None:
        seen.append(text)
        if len(seen) == 2:
            cancel.set()

    result = int4.generate(  # type: ignore[attr-defined]
        [Message("user", "Write a long story about a lighthouse keeper.")],
        Sampling(max_new_tokens=200),
        emit,
        cancel,
    )
    assert result.finish_reason == "cancelled" and len(seen) == 2
    assert result.completion_tokens <= 4  # two pieces, a few tokens at most
    assert "Paris" in generate(int4, PROMPTS[0]).text  # the kept cache is still sound


def entries(cache: Path, scheme: str) -> list[Path]:
    return [p for p in cache.iterdir() if f"-{scheme}-" in p.name]


def refuse_conversion(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    from switchboard.providers import local_pack

    calls: list[Path] = []
    convert: Callable[[Path, Path, str, str], None] = local_pack.convert_in_child

    def counted(gguf: Path, out: Path, scheme: str, dtype: str) -> None:
        calls.append(gguf)
        convert(gguf, out, scheme, dtype)

    monkeypatch.setattr(local_pack, "convert_in_child", counted)
    return calls


def test_the_cache_entry_is_reused(
    int4: object, cache: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from switchboard.providers.local_torch import load_model

    (entry,) = entries(cache, "int4")
    assert "bfloat16" in entry.name and entry.name.endswith("-v2")
    assert not [p for p in cache.iterdir() if p.name.startswith(".staging")]
    calls = refuse_conversion(monkeypatch)
    caplog.set_level(logging.INFO, logger="switchboard.providers.local_pack")
    again = load_model(locate_gguf(Settings()), 1, cache, "bfloat16", "int4")
    assert calls == [] and "converting" not in caplog.text
    assert generate(again, PROMPTS[0]).text == "The capital of France is Paris."


def test_a_damaged_entry_is_converted_again(
    int4: object, cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from switchboard.providers.local_pack import cache_entry
    from switchboard.providers.local_torch import load_model

    gguf = locate_gguf(Settings())
    damaged = cache_entry(tmp_path, gguf, "int4", "bfloat16")
    damaged.mkdir(parents=True)
    (damaged / "model.safetensors").write_bytes(b"not safetensors")
    calls = refuse_conversion(monkeypatch)
    model = load_model(gguf, 1, tmp_path, "bfloat16", "int4")
    assert calls == [gguf]
    assert (damaged / "model.safetensors").stat().st_size > 50_000_000
    assert "Paris" in generate(model, PROMPTS[0]).text


def test_without_a_cache_nothing_is_left_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No cache (or one that cannot be written): converted into a temporary folder that is
    removed once the weights are mapped."""
    from switchboard.providers.local_torch import load_model

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    model = load_model(locate_gguf(Settings()), 1, None, "bfloat16", "int4")
    assert list(tmp_path.iterdir()) == []
    assert "Paris" in generate(model, PROMPTS[0]).text


def test_int4_round_trip_keeps_a_q4_1_grid_exactly() -> None:
    """Groups on a Q4_1 grid (d * q + m, the minimum at q=0 and the maximum at q=15) keep
    their integers: the scale comes back as d and every value is off by bfloat16 rounding only
    (a wrong integer would be off by d); int8 rows within half a step."""
    from switchboard.providers.local_quant import GROUP, quantise_int4, quantise_int8_rows

    generator = torch.Generator().manual_seed(1)
    rows, cols = 128, 4 * GROUP
    levels = torch.randint(0, 16, (rows, cols // GROUP, GROUP), generator=generator)
    levels[..., 0], levels[..., 1] = 0, 15
    d = torch.rand(rows, cols // GROUP, 1, generator=generator) * 0.01 + 0.005
    m = -8 * d * torch.rand(rows, cols // GROUP, 1, generator=generator)
    weight = (d * levels + m).reshape(rows, cols)
    packed, scales = quantise_int4(weight, torch.bfloat16)
    scale, zero = scales[..., 0].t().float()[..., None], scales[..., 1].t().float()[..., None]
    assert torch.allclose(scale, d, rtol=2**-8)
    back = torch.ops.aten._weight_int4pack_mm_for_cpu(
        torch.eye(cols, dtype=torch.bfloat16), packed, GROUP, scales
    ).t()
    expected = (levels - 8) * scale + zero
    rounding = ((levels - 8).abs() * scale + expected.abs()) * 2**-8
    assert ((back.float().reshape(expected.shape) - expected).abs() <= rounding).all()
    assert (rounding < d / 2).all()
    q8, s8 = quantise_int8_rows(weight, torch.float32)
    assert ((q8.float() * s8[:, None] - weight).abs() <= s8[:, None] / 2 + 1e-7).all()


def test_a_long_prompt_unpacks_int4_to_the_same_product() -> None:
    from switchboard.providers.local_quant import (
        UNPACK_FROM_ROWS,
        Int4Linear,
        can_unpack,
        quantise_int4,
    )

    if not can_unpack(torch.bfloat16):
        pytest.skip("this CPU's int4 layout is not the AVX-512 one unpack_int4 reads")
    generator = torch.Generator().manual_seed(2)
    packed, scales = quantise_int4(torch.randn(192, 128, generator=generator), torch.bfloat16)
    x = torch.randn(UNPACK_FROM_ROWS, 128, generator=generator).to(torch.bfloat16)
    kernel = Int4Linear(packed, scales, unpack=False)(x).float()
    unpacked = Int4Linear(packed, scales, unpack=True)(x).float()
    assert (unpacked - kernel).norm() < 0.01 * kernel.norm()


def test_serving_never_imports_transformers(int4: object, cache: Path) -> None:
    script = (
        "import sys, threading\n"
        "from pathlib import Path\n"
        "from switchboard.config import Settings\n"
        "from switchboard.providers.local import load_local_model\n"
        f"model = load_local_model(Settings(local_model_cache_dir=Path({str(cache)!r})), 1)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('transformers', 'jinja2')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = done.stdout.strip()
    assert "jinja2" in loaded and "'transformers" not in loaded


def test_int4_reads_embedding_rows_from_the_file(int4: object, cache: Path) -> None:
    """Looked up with pread, not mapped: the rows equal the stored tensor's."""
    from safetensors.torch import load_file

    from switchboard.providers.local_quant import EMBEDDING, FileRows

    rows = int4.model.embedding  # type: ignore[attr-defined]
    assert isinstance(rows, FileRows)
    (entry,) = entries(cache, "int4")
    stored = load_file(str(entry / "model.safetensors"))[EMBEDDING]
    tokens = torch.tensor([0, 5, 5, 49151])
    assert torch.equal(rows[tokens], stored[tokens])
    with pytest.raises(IndexError, match="outside the vocabulary"):
        rows[torch.tensor([49152])]


def test_a_template_refusal_is_a_bad_request() -> None:
    """Chat templates call raise_exception for conversations they cannot format: a 400."""
    from switchboard.errors import InvalidRequest
    from switchboard.providers.local_torch import ChatTemplate

    source = (
        "{% if messages[0]['role'] == 'assistant' %}{{ raise_exception('user first') }}"
        "{% endif %}ok"
    )
    template = ChatTemplate(source, {})
    assert template.render([{"role": "user", "content": "hi"}]) == "ok"
    with pytest.raises(InvalidRequest, match="user first"):
        template.render([{"role": "assistant", "content": "hi"}])


def anonymous_mb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) // 1024
    raise AssertionError("no RssAnon in /proc/self/status")


def test_a_long_prompt_leaves_no_memory_behind(int4: object) -> None:
    """Its key/value cache is not kept, and its activations go back to the OS (glibc kept
    ~60 MB of them in the heap before)."""
    generate(int4, PROMPTS[0])
    before = anonymous_mb()
    facts = " ".join(
        f"Fact {i}: the number {i} is {'even' if i % 2 else 'odd'}." for i in range(360)
    )
    assert generate(int4, facts + " Summarise.", tokens=4).prompt_tokens > 4000
    generate(int4, PROMPTS[0])
    assert anonymous_mb() - before < 25
