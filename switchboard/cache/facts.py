"""What the cache decided for one request (`ctx.cache`), and what the client asked of it.

The api sets the directive from the request headers; the cache stage fills in the outcome;
`api/headers.py` renders `x-switchboard-cache` (and the similarity) from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from switchboard.domain import Usage

Outcome = Literal["hit-exact", "hit-semantic", "miss", "bypass"]


@dataclass(frozen=True, slots=True)
class Directive:
    """Whether this request may be answered from the cache, and whether its reply may be kept."""

    lookup: bool = True
    store: bool = True


DEFAULT = Directive()
NO_LOOKUP = Directive(lookup=False, store=True)  # no-cache, refresh: ask again, keep the answer
NEITHER = Directive(lookup=False, store=False)  # no-store, bypass


def directive_from_headers(cache_control: str | None, switchboard: str | None) -> Directive:
    """`Cache-Control: no-store|no-cache` and `x-switchboard-cache: bypass|refresh`."""
    if cache_control is None and switchboard is None:
        return DEFAULT
    words = {w.strip().lower() for w in (cache_control or "").split(",")}
    ours = (switchboard or "").strip().lower()
    if "no-store" in words or ours == "bypass":
        return NEITHER
    if "no-cache" in words or ours == "refresh":
        return NO_LOOKUP
    return DEFAULT


@dataclass(slots=True)
class CacheFacts:
    """Set on the context: the directive by the api, the rest by the cache stage."""

    directive: Directive = DEFAULT
    outcome: Outcome | None = None
    key: str | None = None  # the entry's key (x-switchboard-cache-key: to delete it)
    similarity: float | None = None  # semantic hits: the cosine similarity of the match
    saved: Usage | None = None  # a hit: the usage the stored reply cost when it was made
    saved_usd: float = 0.0  # priced at the deployment the route would have picked first

    @property
    def hit(self) -> bool:
        return self.outcome in ("hit-exact", "hit-semantic")
