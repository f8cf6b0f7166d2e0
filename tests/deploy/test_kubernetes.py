"""deploy/k8s: every rendered manifest (base and overlays) valid offline for several Kubernetes
versions; KEDA's kinds against a vendored subset schema; probes, budgets and scaling wired right."""

from __future__ import annotations

import functools
import json
import subprocess
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from switchboard.catalogue import Catalogue
from tests.deploy.conftest import DEPLOY, ROOT, tool

K8S = DEPLOY / "k8s"
TREES = ["base", "overlays/staging", "overlays/production"]
VERSIONS = ["1.29.0", "1.32.0", "1.35.0"]
KEDA_SCHEMA = ROOT / "tests" / "deploy" / "schemas" / "keda-subset.json"

Doc = dict[str, Any]


@functools.cache
def render(tree: str) -> tuple[Doc, ...]:
    out = subprocess.run(
        [tool("kubectl"), "kustomize", str(K8S / tree)], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return tuple(d for d in yaml.safe_load_all(out.stdout) if d)


def by_kind(docs: tuple[Doc, ...], kind: str) -> dict[str, Doc]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


@pytest.mark.parametrize("tree", TREES)
def test_manifests_are_valid_kubernetes(tree: str) -> None:
    keda = json.loads(KEDA_SCHEMA.read_text())
    checked = 0
    for doc in render(tree):
        if doc["apiVersion"].startswith("keda.sh/"):
            jsonschema.validate(doc, {**keda, "$ref": f"#/$defs/{doc['kind']}"})
            continue
        for version in VERSIONS:
            kubernetes_validate.validate(doc, version, strict=True)
            checked += 1
    assert checked >= 9 * len(VERSIONS)


def test_the_validators_reject_mistakes() -> None:
    docs = render("base")
    deployment = json.loads(json.dumps(by_kind(docs, "Deployment")["switchboard-gateway"]))
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["pth"] = 1
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, VERSIONS[0], strict=True)
    scaled = json.loads(json.dumps(by_kind(docs, "ScaledObject")["switchboard-worker"]))
    scaled["spec"]["maxReplicas"] = 3
    keda = json.loads(KEDA_SCHEMA.read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(scaled, {**keda, "$ref": "#/$defs/ScaledObject"})


def _container(deployment: Doc) -> Doc:
    container: Doc = deployment["spec"]["template"]["spec"]["containers"][0]
    return container


@pytest.mark.parametrize("tree", TREES)
def test_gateway_probes_shutdown_and_resources(tree: str) -> None:
    docs = render(tree)
    deployments = by_kind(docs, "Deployment")
    gateway = deployments["switchboard-gateway"]
    c = _container(gateway)
    assert c["livenessProbe"]["httpGet"]["path"] == "/health"
    assert c["readinessProbe"]["httpGet"]["path"] == "/ready"
    settings = by_kind(docs, "ConfigMap")
    env = next(cm["data"] for name, cm in settings.items() if "settings" in name)
    pre_stop = int(c["lifecycle"]["preStop"]["exec"]["command"][-1])
    grace = int(env["SWITCHBOARD_GRACEFUL_SHUTDOWN_S"])
    assert gateway["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > pre_stop + grace
    for deployment in deployments.values():
        resources = _container(deployment)["resources"]
        assert {"cpu", "memory"} <= resources["requests"].keys() & resources["limits"].keys()
        assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"]


@pytest.mark.parametrize("tree", TREES)
def test_the_worker_serves_its_metrics_where_prometheus_looks(tree: str) -> None:
    """The worker's job outcomes exist only in its own process: its metrics port must be set,
    bound on every interface and named in the scrape annotations."""
    docs = render(tree)
    worker = by_kind(docs, "Deployment")["switchboard-worker"]
    c = _container(worker)
    settings = next(cm["data"] for n, cm in by_kind(docs, "ConfigMap").items() if "settings" in n)
    assert any(ref["configMapRef"]["name"] in settings_names(docs) for ref in c["envFrom"])
    port = int(settings["SWITCHBOARD_WORKER_METRICS_PORT"])
    assert settings["SWITCHBOARD_HOST"] == "0.0.0.0"
    assert {"name": "metrics", "containerPort": port} in c["ports"]
    notes = worker["spec"]["template"]["metadata"]["annotations"]
    assert notes["prometheus.io/scrape"] == "true" and int(notes["prometheus.io/port"]) == port


def settings_names(docs: tuple[Doc, ...]) -> set[str]:
    return {n for n in by_kind(docs, "ConfigMap") if "settings" in n}


@pytest.mark.parametrize("tree", TREES)
def test_secrets_are_referenced_not_shipped(tree: str) -> None:
    docs = render(tree)
    assert not by_kind(docs, "Secret")
    for deployment in by_kind(docs, "Deployment").values():
        for var in _container(deployment)["env"]:
            assert "value" not in var, f"{var['name']} must come from a Secret"
            assert "secretKeyRef" in var["valueFrom"]


@pytest.mark.parametrize("tree", TREES)
def test_budgets_and_autoscalers_point_at_the_deployments(tree: str) -> None:
    docs = render(tree)
    deployments = by_kind(docs, "Deployment")
    labels = {n: d["spec"]["template"]["metadata"]["labels"] for n, d in deployments.items()}
    for pdb in by_kind(docs, "PodDisruptionBudget").values():
        wanted = pdb["spec"]["selector"]["matchLabels"]
        assert any(wanted.items() <= have.items() for have in labels.values()), pdb
    hpa = by_kind(docs, "HorizontalPodAutoscaler")["switchboard-gateway"]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "switchboard-gateway"
    kinds = {m["type"]: m for m in hpa["spec"]["metrics"]}
    assert kinds["Resource"]["resource"]["name"] == "cpu"
    assert kinds["Pods"]["pods"]["metric"]["name"] == "switchboard_requests_per_second"
    assert hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    scaled = by_kind(docs, "ScaledObject")["switchboard-worker"]
    assert scaled["spec"]["scaleTargetRef"]["name"] in deployments
    assert scaled["spec"]["triggers"][0]["type"] == "redis"
    auth = scaled["spec"]["triggers"][0]["authenticationRef"]["name"]
    assert auth in by_kind(docs, "TriggerAuthentication")


def test_the_catalogue_config_map_is_a_valid_catalogue(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-y")
    maps = by_kind(render("base"), "ConfigMap")
    data = next(cm["data"] for name, cm in maps.items() if "catalogue" in name)
    catalogue = Catalogue.model_validate(yaml.safe_load(data["catalogue.yaml"]))
    assert catalogue.default_model is not None


def test_the_adapter_rule_serves_the_hpa_metric() -> None:
    rules = yaml.safe_load((K8S / "prometheus-adapter-rules.yaml").read_text())
    names = [r["name"]["as"] for r in rules["rules"]["custom"]]
    hpa = by_kind(render("base"), "HorizontalPodAutoscaler")["switchboard-gateway"]
    pods = [m["pods"]["metric"]["name"] for m in hpa["spec"]["metrics"] if m["type"] == "Pods"]
    assert pods and set(pods) <= set(names)
