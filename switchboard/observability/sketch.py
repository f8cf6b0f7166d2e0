"""Mergeable latency sketches (DDSketch) in one-minute buckets, for percentiles over sliding
windows and error-budget burn rates.

A DDSketch answers any quantile within a relative error (0.5% here) in bounded memory, and two
sketches merge exactly: a window is the merge of its minutes, and the replicas' windows merge
the same way (through Redis, `slo_store.py`). Nothing is sorted; no sample is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ddsketch import DDSketch
from ddsketch.pb.ddsketch_pb2 import DDSketch as SketchMessage
from ddsketch.pb.proto import DDSketchProto

RELATIVE_ACCURACY = 0.005
BUCKET_S = 60
QUANTILES = {"p50": 0.50, "p95": 0.95, "p99": 0.99}


def new_sketch() -> DDSketch:
    return DDSketch(RELATIVE_ACCURACY)


def sketch_bytes(sketch: DDSketch) -> bytes:
    """The sketch in DDSketch's own protobuf form (what other replicas merge)."""
    return bytes(DDSketchProto.to_proto(sketch).SerializeToString())


def sketch_from_bytes(data: bytes) -> DDSketch:
    message = SketchMessage()
    message.ParseFromString(data)
    loaded = DDSketchProto.from_proto(message)
    out = new_sketch()
    out.merge(loaded)
    return out


def quantile(sketch: DDSketch, name: str) -> float | None:
    """`p50`/`p95`/`p99` of the sketch, or None when it is empty."""
    if sketch.count == 0:
        return None
    value = sketch.get_quantile_value(QUANTILES[name])
    return None if value is None else max(0.0, float(value))


@dataclass(slots=True)
class Minute:
    """One objective's observations in one minute: counts for the burn rates over hours,
    sketches for the percentiles over the (shorter) percentile window."""

    total: int = 0  # requests counted by the error-rate objective
    errors: int = 0
    slow: dict[str, int] = field(default_factory=dict)  # "latency:p95" -> requests over target
    latency: DDSketch | None = field(default_factory=new_sketch)
    ttft: DDSketch | None = field(default_factory=new_sketch)
    good_latency: int = 0  # requests whose latency was observed (the slow counts' denominator)
    good_ttft: int = 0

    def add_counts(self, other: Minute) -> None:
        self.total += other.total
        self.errors += other.errors
        self.good_latency += other.good_latency
        self.good_ttft += other.good_ttft
        for name, count in other.slow.items():
            self.slow[name] = self.slow.get(name, 0) + count

    def counts(self) -> dict[str, int]:
        return {
            "total": self.total,
            "errors": self.errors,
            "good_latency": self.good_latency,
            "good_ttft": self.good_ttft,
            **{f"slow:{k}": v for k, v in self.slow.items()},
        }

    @classmethod
    def from_counts(cls, counts: dict[str, int]) -> Minute:
        minute = cls(latency=None, ttft=None)
        for name, value in counts.items():
            if name.startswith("slow:"):
                minute.slow[name[5:]] = value
            elif name in ("total", "errors", "good_latency", "good_ttft"):
                setattr(minute, name, value)
        return minute


def merged(sketches: list[DDSketch | None]) -> DDSketch:
    out = new_sketch()
    for sketch in sketches:
        if sketch is not None and sketch.count:
            out.merge(sketch)
    return out
