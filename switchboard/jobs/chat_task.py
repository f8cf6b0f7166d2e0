"""`chat.completion` jobs: an OpenAI chat body run in the background through the pipeline
with the submitting key (auth, limits, budget, routing, accounting), as HTTP runs it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from switchboard.api.render import chat_response_json
from switchboard.api.schemas import ChatCompletionIn
from switchboard.domain import ChatResponse
from switchboard.jobs.context import JobContext
from switchboard.pipeline.context import open_context

if TYPE_CHECKING:
    from switchboard.config import Settings
    from switchboard.jobs.registry import TaskRegistry

CHAT_TASK = "chat.completion"


async def run_chat(ctx: JobContext, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
    """One chat body through the pipeline with the job's key; the OpenAI reply JSON."""
    chat = ChatCompletionIn.model_validate({**body, "stream": False}).to_domain()
    request = open_context(endpoint, chat, key=await ctx.key())
    reply = await ctx.gateway.pipeline(request)
    assert isinstance(reply, ChatResponse)
    return chat_response_json(reply)


async def chat_completion(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    return await run_chat(ctx, "jobs.chat.completions", payload["body"])


def install(registry: TaskRegistry, settings: Settings) -> None:
    registry.add(CHAT_TASK, chat_completion, max_attempts=5, backoff_s=1.0, public=True)
