"""Local query-complexity classifier: simple / moderate / complex, with no LLM call.

A multinomial logistic regression over the features in `features.py`, trained offline by
`bench/routing_train.py` and shipped as `data/complexity_model.json`. Scoring is pure Python
(a few dict lookups and a softmax), tens of microseconds for a typical message and bounded for
huge ones, so it runs inline on the request path. Load it once at start-up: `load` reads a file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from switchboard.domain import Message
from switchboard.routing.features import DENSE_NAMES, ChatView, extract, view_of

DEFAULT_MODEL_PATH = Path(__file__).parent / "data" / "complexity_model.json"
MODEL_FORMAT = 1


class Tier(StrEnum):
    SIMPLE = "simple"
    MODERATE = "moderate"
    COMPLEX = "complex"


TIERS: tuple[Tier, ...] = (Tier.SIMPLE, Tier.MODERATE, Tier.COMPLEX)
Vector = tuple[float, float, float]


@dataclass(frozen=True, slots=True)
class ContextPrior:
    """How a long conversation or system prompt nudges the logits, towards complex."""

    weights: Vector  # added per unit of context, in TIERS order
    prior_chars_unit: float  # earlier user/assistant turns: log1p(chars / unit)
    system_chars_unit: float  # system/developer prompts count half: 0.5 * log1p(chars / unit)
    cap: float  # the most units a conversation can add

    def units(self, view: ChatView) -> float:
        prior = math.log1p(view.prior_chars / self.prior_chars_unit)
        system = 0.5 * math.log1p(view.system_chars / self.system_chars_unit)
        return min(self.cap, prior + system)


class ComplexityClassifier:
    """Scores a chat's last user message (and, a little, its context) into a Tier."""

    __slots__ = ("_bias", "_context", "_dense", "_sparse", "_sparse_scale", "_temperature")

    def __init__(
        self,
        sparse: dict[str, Vector],
        sparse_scale: float,
        dense: list[Vector],
        bias: Vector,
        temperature: float,
        context: ContextPrior,
    ) -> None:
        self._sparse = sparse
        self._sparse_scale = sparse_scale
        self._dense = dense  # weights for the *standardized* dense features, folded in at load
        self._bias = bias
        self._temperature = temperature  # calibrates the probabilities; argmax is unchanged
        self._context = context

    @classmethod
    def load(cls, path: Path | None = None) -> ComplexityClassifier:
        """Read the trained model (the committed one by default); blocking file I/O."""
        data = json.loads((path or DEFAULT_MODEL_PATH).read_text(encoding="utf-8"))
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ComplexityClassifier:
        if data.get("format") != MODEL_FORMAT or data.get("tiers") != [t.value for t in TIERS]:
            raise ValueError("unsupported complexity model file")
        dense = data["dense"]
        if tuple(dense["names"]) != DENSE_NAMES:
            raise ValueError("the model's dense features do not match this code's features")
        # Fold standardization into the weights: w * (x - mean) / scale = x * w' - mean * w'.
        folded = [
            _vec(w[k] / scale for k in range(3))
            for w, scale in zip(dense["weights"], dense["scale"], strict=True)
        ]
        bias = _vec(
            data["bias"][k] - sum(m * w[k] for m, w in zip(dense["mean"], folded, strict=True))
            for k in range(3)
        )
        ctx = data["context"]
        return cls(
            sparse={name: _vec(w) for name, w in data["sparse"].items()},
            sparse_scale=float(data["sparse_scale"]),
            dense=folded,
            bias=bias,
            temperature=float(data["temperature"]),
            context=ContextPrior(
                weights=_vec(ctx["weights"]),
                prior_chars_unit=float(ctx["prior_chars_unit"]),
                system_chars_unit=float(ctx["system_chars_unit"]),
                cap=float(ctx["cap"]),
            ),
        )

    def classify(self, messages: Sequence[Message]) -> Tier:
        """The most likely tier of the request."""
        logits = self.logits(view_of(messages))
        return TIERS[max(range(3), key=logits.__getitem__)]

    def scores(self, messages: Sequence[Message]) -> dict[Tier, float]:
        """Probability of each tier (they sum to 1)."""
        logits = self.logits(view_of(messages))
        top = max(logits)
        exps = [math.exp(z - top) for z in logits]
        total = sum(exps)
        return {tier: e / total for tier, e in zip(TIERS, exps, strict=True)}

    def logits(self, view: ChatView) -> list[float]:
        """Calibrated, unnormalized log-probabilities in TIERS order."""
        sparse, dense = extract(view)
        z0, z1, z2 = self._bias
        rows = [row for name in sparse if (row := self._sparse.get(name)) is not None]
        if rows:
            norm = self._sparse_scale / math.sqrt(len(rows))
            z0 += norm * sum(r[0] for r in rows)
            z1 += norm * sum(r[1] for r in rows)
            z2 += norm * sum(r[2] for r in rows)
        for x, w in zip(dense, self._dense, strict=True):
            z0 += x * w[0]
            z1 += x * w[1]
            z2 += x * w[2]
        t = self._temperature
        z0, z1, z2 = z0 / t, z1 / t, z2 / t
        units = self._context.units(view)
        if units:
            c = self._context.weights
            z0, z1, z2 = z0 + units * c[0], z1 + units * c[1], z2 + units * c[2]
        return [z0, z1, z2]


def _vec(values: Any) -> Vector:
    a, b, c = (float(v) for v in values)
    return (a, b, c)
