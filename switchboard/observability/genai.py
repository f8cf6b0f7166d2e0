"""The OpenTelemetry GenAI semantic conventions' names for our endpoints and provider types,
shared by the spans and the GenAI metrics."""

from __future__ import annotations

# provider types as the conventions name them (`gen_ai.provider.name`)
_PROVIDERS = {
    "openai": "openai",
    "azure": "azure.ai.openai",
    "anthropic": "anthropic",
    "bedrock": "aws.bedrock",
    "vllm": "openai",
    "local": "switchboard.local",
}


def genai_provider(provider: str | None) -> str:
    """`gen_ai.provider.name` of a deployment's provider type."""
    return _PROVIDERS.get(provider or "", provider or "")


def genai_operation(endpoint: str) -> str:
    """`gen_ai.operation.name` of one of our endpoints."""
    if endpoint.endswith("embeddings"):
        return "embeddings"
    return "text_completion" if endpoint == "completions" else "chat"
