"""Azure OpenAI: the OpenAI wire format at a deployment URL, with `api-version` and `api-key`."""

from __future__ import annotations

from switchboard.catalogue import DeploymentConfig
from switchboard.config import Settings
from switchboard.providers.http import HttpProvider
from switchboard.providers.openai import OpenAIAdapter, transport_for

DEFAULT_API_VERSION = "2024-10-21"


class AzureOpenAIAdapter(OpenAIAdapter):
    """`model` in the catalogue is the Azure deployment name; the body carries no model."""

    def __init__(self, deployment: DeploymentConfig) -> None:
        super().__init__(deployment)
        version = deployment.api_version or DEFAULT_API_VERSION
        prefix = f"/openai/deployments/{deployment.model}"
        self.chat_path = f"{prefix}/chat/completions?api-version={version}"
        self.embeddings_path = f"{prefix}/embeddings?api-version={version}"
        self.responses_path = "/openai/v1/responses"  # the v1 API: no api-version, model in body

    def auth_headers(self) -> dict[str, str]:
        return {"api-key": self._secret} if self._secret else {}

    def upstream_model(self) -> str | None:
        return None


def build_azure(deployment: DeploymentConfig, settings: Settings) -> HttpProvider:
    if not deployment.api_base:
        raise ValueError(f"azure deployment {deployment.id} needs api_base")
    return HttpProvider(AzureOpenAIAdapter(deployment), transport_for(deployment, ""))
