"""The catalogue: the README's example loads, and mistakes are caught at start-up."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from switchboard.catalogue import Catalogue, embedded_catalogue, load_catalogue
from switchboard.config import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_is_a_valid_catalogue(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for var in ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.setenv(var, f"sk-{var.lower()}-secret")
    block = re.search(r"```yaml\n(default_model:.*?)```", README.read_text(), re.S)
    assert block is not None
    path = tmp_path / "switchboard.yaml"
    path.write_text(block.group(1))
    catalogue = load_catalogue(path)
    gpt = catalogue.find("gpt-4o")
    assert gpt is not None and gpt.fallbacks == ["claude-sonnet", "llama-70b"]
    key = gpt.deployments[0].api_key
    assert key is not None and key.get_secret_value() == "sk-openai_api_key-secret"
    assert "secret" not in repr(gpt.deployments[0])  # keys never print


def test_no_config_means_the_embedded_model() -> None:
    catalogue = Settings().load_catalogue()
    assert catalogue == embedded_catalogue()
    assert catalogue.default_model == "local"


@pytest.mark.parametrize(
    ("models", "message"),
    [
        ([{"name": "a", "deployments": []}], "needs deployments or a router"),
        ([{"name": "a", "deployments": [{"provider": "openai", "model": "m"}],
           "fallbacks": ["nope"]}], "unknown model"),
        ([{"name": "a", "deployments": [{"provider": "openai", "model": "m"}]},
          {"name": "a", "deployments": [{"provider": "openai", "model": "n"}]}], "unique"),
        ([{"name": "a",
           "deployments": [{"provider": "openai", "model": "m", "api_key": "env:NOPE_X"}]}],
         "NOPE_X"),
    ],
)  # fmt: skip
def test_catalogue_mistakes_are_reported(models: list[dict[str, object]], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Catalogue.model_validate({"models": models})


def test_unknown_provider_fails_at_build() -> None:
    from switchboard.providers.registry import build_provider

    cat = Catalogue.model_validate(
        {"models": [{"name": "a", "deployments": [{"provider": "nope", "model": "m"}]}]}
    )
    with pytest.raises(ValueError, match="unknown provider"):
        build_provider(cat.models[0].deployments[0], Settings())


def test_yaml_roundtrip_of_embedded() -> None:
    dumped = yaml.safe_dump(embedded_catalogue().model_dump(mode="json"))
    assert Catalogue.model_validate(yaml.safe_load(dumped)).models[0].name == "local"
