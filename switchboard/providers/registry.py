"""Provider type name (the `provider:` field of a deployment) -> factory. One line a provider."""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from switchboard.catalogue import DeploymentConfig
from switchboard.config import Settings
from switchboard.providers.base import Provider
from switchboard.providers.capabilities import check_native_setting

# Factories are imported lazily so that, say, the local model's torch import costs nothing
# to a gateway that only proxies to remote providers.
FACTORIES: Mapping[str, str] = {
    "openai": "switchboard.providers.openai:build_openai",
    "vllm": "switchboard.providers.openai:build_openai",
    "tgi": "switchboard.providers.openai:build_openai",
    "llamacpp": "switchboard.providers.openai:build_openai",
    "ollama": "switchboard.providers.openai:build_openai",
    "azure": "switchboard.providers.azure:build_azure",
    "anthropic": "switchboard.providers.anthropic:build_anthropic",
    "bedrock": "switchboard.providers.bedrock:build_bedrock",
    "local": "switchboard.providers.local:build_local",
}


def build_provider(deployment: DeploymentConfig, settings: Settings) -> Provider:
    target = FACTORIES.get(deployment.provider)
    if target is None:
        known = ", ".join(sorted(FACTORIES))
        raise ValueError(f"unknown provider {deployment.provider!r} (known: {known})")
    check_native_setting(deployment)
    module_name, _, attr = target.partition(":")
    factory = getattr(importlib.import_module(module_name), attr)
    provider: Provider = factory(deployment, settings)
    return provider
