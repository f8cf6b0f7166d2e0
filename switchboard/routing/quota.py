"""Deployment quotas (`rpm` / `tpm` on a deployment) in the shared request limiter.

With Redis configured every replica draws on one quota, so a provider's per-key limit is never
exceeded by the fleet; a deployment at its quota is skipped like a rate-limited one. The quota
is reserved per attempt (the deployment is known only then) and settled without waiting.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from switchboard.catalogue import DeploymentConfig
from switchboard.domain import ChatRequest, EmbeddingRequest
from switchboard.errors import UpstreamRateLimited
from switchboard.tokens import estimate_prompt_tokens

if TYPE_CHECKING:
    from switchboard.limits.admission import Admission, RequestLimiter


class DeploymentQuota:
    def __init__(self, limiter: RequestLimiter, reserve_reply_tokens: int) -> None:
        self._limiter = limiter
        self._reply_tokens = reserve_reply_tokens

    async def admit(
        self, deployment: DeploymentConfig, request: ChatRequest | EmbeddingRequest
    ) -> Admission | None:
        """Reserve one request and its worst-case tokens, or raise if the quota is used up."""
        if deployment.rpm is None and deployment.tpm is None:
            return None
        from switchboard.limits.admission import AdmitPlan
        from switchboard.limits.types import Limit

        tokens = estimate_prompt_tokens(request)
        if isinstance(request, ChatRequest):  # n choices may be n calls, each with the prompt
            reply = request.token_limit() or self._reply_tokens
            tokens = (tokens + reply) * request.choice_count()
        limit = Limit(f"deployment:{deployment.id}", deployment.rpm, deployment.tpm)
        once = f"{random.getrandbits(64):016x}"
        admission = await self._limiter.admit(AdmitPlan([limit], tokens, once=once))
        if not admission.allowed:
            retry = admission.rate.retry_after_s if admission.rate is not None else 2.0
            raise UpstreamRateLimited(
                f"deployment {deployment.id} is at its quota", retry_after=retry
            )
        return admission

    async def settle(self, admission: Admission | None, tokens: int) -> None:
        """Correct the reserved tokens to the real ones; queued, never awaited."""
        if admission is not None:
            self._limiter.settle(admission, tokens, 0)
