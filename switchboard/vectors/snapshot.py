"""The embedded index's file: every namespace's graph, ids and deadlines in one `.npz`.

A plain numpy archive (no pickle), written to a temporary file beside the target, flushed to
disk and renamed over it, so a crash mid-write leaves the previous file intact.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from usearch.index import Index

VERSION = 1
Arrays = dict[str, npt.NDArray[np.generic]]


@dataclass(slots=True)
class SpaceState:
    index: Index
    ids: dict[int, str]  # graph key -> caller's id
    expires: dict[int, float]  # graph key -> wall-clock deadline (absent: no TTL)


@dataclass(slots=True)
class State:
    dimensions: int
    next_key: int
    order: list[tuple[str, int]]  # (namespace, key), oldest first
    spaces: dict[str, SpaceState]


def encode(state: State) -> Arrays:
    """The arrays to write; serialises the graphs (run it off the event loop)."""
    names = list(state.spaces)
    meta = {"version": VERSION, "dimensions": state.dimensions, "next_key": state.next_key}
    meta["namespaces"] = names  # type: ignore[assignment]
    arrays: Arrays = {"meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)}
    for i, name in enumerate(names):
        space = state.spaces[name]
        keys = list(space.ids)
        texts = [space.ids[key].encode() for key in keys]
        arrays[f"g{i}"] = np.frombuffer(_serialised(space.index), dtype=np.uint8)
        arrays[f"k{i}"] = np.array(keys, dtype=np.uint64)
        arrays[f"t{i}"] = np.frombuffer(b"".join(texts), dtype=np.uint8)
        arrays[f"o{i}"] = np.cumsum([0, *map(len, texts)], dtype=np.int64)
        arrays[f"e{i}"] = np.array([space.expires.get(k, np.nan) for k in keys], dtype=np.float64)
    position = {name: i for i, name in enumerate(names)}
    arrays["order_ns"] = np.array([position[ns] for ns, _ in state.order], dtype=np.int32)
    arrays["order_key"] = np.array([key for _, key in state.order], dtype=np.uint64)
    return arrays


def write(path: Path, arrays: Arrays) -> None:
    """Atomically replace `path` with the archive."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            np.savez(out, **arrays)  # type: ignore[arg-type]
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read(path: Path, expansion_add: int, expansion_search: int) -> State:
    """The state saved in `path`, its graphs set to the given expansions (not saved in the
    file); raises ValueError on a file this version cannot read."""
    graph = (expansion_add, expansion_search)
    with np.load(path, allow_pickle=False) as archive:
        meta = json.loads(archive["meta"].tobytes())
        if meta.get("version") != VERSION:
            raise ValueError(f"{path}: unknown vector index format {meta.get('version')}")
        names: list[str] = meta["namespaces"]
        spaces = {name: _space(archive, i, graph) for i, name in enumerate(names)}
        order = list(
            zip(
                (names[i] for i in archive["order_ns"].tolist()),
                archive["order_key"].tolist(),
                strict=True,
            )
        )
    return State(int(meta["dimensions"]), int(meta["next_key"]), order, spaces)


def _space(archive: np.lib.npyio.NpzFile, i: int, graph: tuple[int, int]) -> SpaceState:
    data = bytearray(archive[f"g{i}"].tobytes())
    index = Index.restore(data, expansion_add=graph[0], expansion_search=graph[1])
    if index is None:
        raise ValueError(f"namespace {i}: the graph cannot be read")
    keys = archive[f"k{i}"].tolist()
    text = archive[f"t{i}"].tobytes()
    offsets = archive[f"o{i}"].tolist()
    ids = {key: text[offsets[j] : offsets[j + 1]].decode() for j, key in enumerate(keys)}
    deadlines = archive[f"e{i}"].tolist()
    expires = {key: deadlines[j] for j, key in enumerate(keys) if deadlines[j] == deadlines[j]}
    return SpaceState(index, ids, expires)


def _serialised(index: Index) -> bytes:
    data = index.save()  # without a path: the serialised graph
    if data is None:
        raise ValueError("the graph could not be serialised")
    return bytes(data)
