"""The seed's way of routing, kept as an opt-in: ask a (cheap) model how complex a query is.

It costs a paid call and its latency on every request, which is why the local classifier is the
default. Any failure or unclear answer falls back to the local classifier's verdict.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from switchboard.domain import ChatRequest, ChatResponse, Message
from switchboard.errors import SwitchboardError
from switchboard.routing.complexity import ComplexityClassifier, Tier

log = logging.getLogger("switchboard.routing")

PROMPT = (
    "Classify how hard the user's request is for a language model. Answer with exactly one word: "
    "simple (greetings, facts, short rewrites), moderate (explanations, summaries, short code) "
    "or complex (multi-step reasoning, design, proofs, long code or analysis)."
)

AskModel = Callable[[ChatRequest], Awaitable[ChatResponse]]


class LlmClassifier:
    def __init__(
        self, ask: AskModel, model: str, fallback: ComplexityClassifier, timeout_s: float = 5.0
    ) -> None:
        self._ask = ask
        self._model = model
        self._fallback = fallback
        self._timeout = timeout_s

    async def classify(self, messages: list[Message]) -> Tier:
        last_user = next((m.text() for m in reversed(messages) if m.role == "user"), "")
        request = ChatRequest(
            model=self._model,
            messages=[Message("system", PROMPT), Message("user", last_user[:4000])],
            max_tokens=3,
            temperature=0.0,
        )
        try:
            async with asyncio.timeout(self._timeout):
                reply = await self._ask(request)
        except (SwitchboardError, TimeoutError) as exc:
            log.warning(
                "LLM classifier failed (%s); using the local classifier", type(exc).__name__
            )
            return self._fallback.classify(messages)
        answer = (reply.choices[0].content or "").strip().lower() if reply.choices else ""
        for tier in Tier:
            if answer.startswith(tier.value):
                return tier
        return self._fallback.classify(messages)
