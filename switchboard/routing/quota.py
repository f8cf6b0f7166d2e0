"""Deployment quotas (`rpm` / `tpm` on a deployment) in the shared rate limiter.

With Redis configured every replica draws on one quota, so a provider's per-key limit is never
exceeded by the fleet; a deployment at its quota is skipped like a rate-limited one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from switchboard.config import DeploymentConfig
from switchboard.domain import ChatRequest, EmbeddingRequest
from switchboard.errors import UpstreamRateLimited
from switchboard.tokens import estimate_prompt_tokens

if TYPE_CHECKING:
    from switchboard.limits.base import RateLimiter
    from switchboard.limits.types import Reservation


class DeploymentQuota:
    def __init__(self, rate: RateLimiter, reserve_reply_tokens: int) -> None:
        self._rate = rate
        self._reply_tokens = reserve_reply_tokens

    async def admit(
        self, deployment: DeploymentConfig, request: ChatRequest | EmbeddingRequest
    ) -> Reservation | None:
        """Reserve one request and its worst-case tokens, or raise if the quota is used up."""
        if deployment.rpm is None and deployment.tpm is None:
            return None
        from switchboard.limits.types import Limit

        tokens = estimate_prompt_tokens(request)
        if isinstance(request, ChatRequest):  # n choices may be n calls, each with the prompt
            reply = request.token_limit() or self._reply_tokens
            tokens = (tokens + reply) * request.choice_count()
        limit = Limit(f"deployment:{deployment.id}", deployment.rpm, deployment.tpm)
        decision = await self._rate.reserve([limit], tokens)
        if not decision.allowed:
            raise UpstreamRateLimited(
                f"deployment {deployment.id} is at its quota",
                retry_after=decision.retry_after_s,
            )
        return decision.reservation

    async def settle(self, reservation: Reservation | None, tokens: int) -> None:
        if reservation is not None:
            await self._rate.settle(reservation, tokens)
