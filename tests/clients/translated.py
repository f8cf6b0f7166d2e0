"""The Anthropic and Bedrock stand-ins behind one gateway, for the client-library tests of what
those providers map: thinking, stop reasons, tool use, cache token counts. The recorded
replies (tests/providers/fixtures) think, say a sentence, call one tool and read 1500 cached
prompt tokens (200 written)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from switchboard.catalogue import Catalogue
from switchboard.config import Settings
from switchboard.testing.harness import BackgroundLoop, GatewayServer, run_gateway
from tests.api.test_fidelity_translated import ARGUMENTS, SIGNATURES, THOUGHT, Upstreams
from tests.providers import anthropic_standin, bedrock_standin

__all__ = ["ARGUMENTS", "PROVIDERS", "SIGNATURES", "TEXT", "THOUGHT", "Upstreams", "translated"]

PROVIDERS = ["anthropic", "bedrock"]
TEXT = "Let me look that up."


@contextmanager
def translated(background: BackgroundLoop) -> Iterator[tuple[Upstreams, GatewayServer]]:
    """The two stand-ins and a gateway whose models `anthropic` and `bedrock` are them."""
    a, b = anthropic_standin.AnthropicStandIn(), bedrock_standin.BedrockStandIn()
    background.run(a.__aenter__())
    background.run(b.__aenter__())
    anthropic = {"provider": "anthropic", "model": "claude-x", "api_base": a.base_url}
    bedrock = {
        "provider": "bedrock",
        "model": "anthropic.claude-x",
        "api_base": b.endpoint_url,
        "region": "eu-west-1",
        "api_key": "AKIDEXAMPLE:secretexample",
    }
    models = [
        {"name": "anthropic", "deployments": [anthropic]},
        {"name": "bedrock", "deployments": [bedrock]},
    ]
    catalogue = Catalogue.model_validate({"models": models})
    try:
        with run_gateway(background, Settings(catalogue=catalogue)) as server:
            yield Upstreams(a, b), server
    finally:
        background.run(a.__aexit__(None, None, None))
        background.run(b.__aexit__(None, None, None))
