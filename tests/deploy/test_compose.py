"""deploy/compose.yaml: valid against the Compose specification; its files and profiles exist."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import yaml

from switchboard.observability.genai_metrics import GenAiMetrics
from switchboard.observability.metrics import Metrics
from tests.deploy.conftest import DEPLOY

SCHEMA = DEPLOY.parent / "tests" / "deploy" / "schemas" / "compose-spec.json"


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return data


def test_valid_against_the_compose_specification() -> None:
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(_compose()), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_the_schema_rejects_a_broken_file() -> None:
    """Guards against a schema that accepts anything."""
    broken = _compose()
    broken["services"]["gateway"]["ports"] = "8000"
    broken["services"]["gateway"]["restart_policy"] = "always"
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))
    assert len(list(validator.iter_errors(broken))) >= 2


def test_services_and_profiles() -> None:
    services = _compose()["services"]
    assert {"gateway", "worker", "redis", "postgres"} <= services.keys()
    assert "redis-stack" in services["redis"]["image"], "the cache and RAG need vector search"
    profiles = {name: set(s.get("profiles", [])) for name, s in services.items()}
    assert profiles["prometheus"] == profiles["grafana"] == {"observability"}
    assert profiles["vllm"] == {"gpu"}
    assert not profiles["gateway"] and not profiles["redis"] and not profiles["postgres"]
    gpu = services["vllm"]["deploy"]["resources"]["reservations"]["devices"][0]
    assert gpu["capabilities"] == ["gpu"]


def test_the_gateway_outlives_its_own_grace_period() -> None:
    gateway = _compose()["services"]["gateway"]
    grace = int(gateway["environment"]["SWITCHBOARD_GRACEFUL_SHUTDOWN_S"])
    assert int(gateway["stop_grace_period"].rstrip("s")) > grace


def test_mounted_files_exist() -> None:
    for name, service in _compose()["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name}: {source}"
        build = service.get("build")
        if build:
            assert (DEPLOY / build["context"] / build["dockerfile"]).exists()


def test_the_dashboard_charts_metrics_the_gateway_exports() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "switchboard.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    names = [m for e in exprs for m in re.findall(r"(?<!:)\bswitchboard_\w+", e)]
    used = {re.sub(r"_(bucket|total)$", "", m) for m in names}
    metrics = Metrics()
    metrics.watch_circuits(lambda: {"a": "closed"})
    GenAiMetrics(metrics.registry)
    exported = {m.name for m in metrics.registry.collect()}
    assert used and used <= exported, used - exported
