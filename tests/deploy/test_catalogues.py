"""Every catalogue shipped in deploy/ passes `switchboard config check` (provider keys set)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from switchboard.config_check import check
from tests.deploy.conftest import DEPLOY

CATALOGUES = [
    DEPLOY / "catalogue.yaml",
    DEPLOY / "catalogue.gpu.yaml",
    DEPLOY / "k8s" / "base" / "catalogue.yaml",
]


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_shipped_catalogue_is_valid(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.setenv(name, "sk-test")
    report = check(path)
    assert report.ok, "\n".join(map(str, report.problems))


def test_the_image_and_compose_default_is_the_mock() -> None:
    """`docker compose up` must answer without provider keys: its catalogue is the mock's."""
    data = yaml.safe_load((DEPLOY / "catalogue.yaml").read_text())
    bases = [d["api_base"] for m in data["models"] for d in m["deployments"]]
    assert bases == ["http://mock:9000/v1"]
    assert not any(
        str(d["api_key"]).startswith("env:") for m in data["models"] for d in m["deployments"]
    )
