"""Prefix affinity (KV-cache aware routing) for self-hosted replicas (vLLM, TGI, SGLang).

A server's prefix cache only hits when requests that share a prefix land on the same replica.
The key is the leading text of the chat: its system/developer messages and first user message,
cut at `prefix_chars`, so every turn of one conversation and every request sharing a long system
prompt get the same key. Replicas are ranked by weighted rendezvous hashing (consistent: adding or
removing one moves only its own keys) with bounded loads (Mirrokni, Thorup, Zadimoghaddam 2018):
the first replica in that order whose in-flight count stays within `balance` times its weighted
share of the load serves, so a hot prefix spills over instead of overloading one replica.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

from switchboard.domain import Message
from switchboard.routing.health import DeploymentHealth

_SPAN = float(1 << 64)


def prefix_key(messages: Sequence[Message], prefix_chars: int) -> bytes:
    """A digest of the chat's leading text (see the module docstring)."""
    parts: list[str] = []
    for message in messages:
        parts.append(f"{message.role}\x00{message.text()}\x1e")
        if message.role == "user":
            break
    lead = "".join(parts)[:prefix_chars]
    return hashlib.blake2b(lead.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _score(key: bytes, health: DeploymentHealth) -> float:
    """Weighted rendezvous score: the highest wins, each replica in proportion to its weight."""
    digest = hashlib.blake2b(key + health.deployment.id.encode(), digest_size=8).digest()
    uniform = (int.from_bytes(digest, "big") + 1) / (_SPAN + 1)  # in (0, 1)
    return -health.deployment.weight / math.log(uniform)


def prefix_affinity(
    items: list[DeploymentHealth], key: bytes, balance: float = 1.25
) -> list[DeploymentHealth]:
    """Replicas in rendezvous order for `key`, the first within its bounded load moved first."""
    ranked = sorted(items, key=lambda h: _score(key, h), reverse=True)
    total_weight = sum(h.deployment.weight for h in items)
    load = sum(h.in_flight for h in items) + 1  # counting this request
    for i, h in enumerate(ranked):
        if h.in_flight + 1 <= math.ceil(balance * load * h.deployment.weight / total_weight):
            return [h, *ranked[:i], *ranked[i + 1 :]]
    return ranked
