"""The shipped Prometheus SLO rules and the Grafana dashboard: `promtool check rules` and
`promtool test rules` against synthetic series with known burn rates (Debian's `prometheus`
package ships promtool; .ci/run installs it), plus a schema check that every expression names
a metric the gateway exports or a recording rule the rules file defines."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import yaml

from switchboard.observability.genai_metrics import GenAiMetrics
from switchboard.observability.metrics import Metrics
from switchboard.testing.services import require_or_skip

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
RULES = DEPLOY / "prometheus" / "rules" / "switchboard-slo.yaml"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "switchboard.json"


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        require_or_skip("promtool is not installed (Debian: apt-get install prometheus)")
    return found


def test_promtool_checks_the_rules() -> None:
    done = subprocess.run(
        [promtool(), "check", "rules", str(RULES)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 22 rules found" in done.stdout


FACTORS = {"1h/5m": "14.4", "6h/30m": "6", "1d/2h": "3", "3d/6h": "1"}
WHAT = {"error": "5xx answers", "slow": "requests slower than 10 s"}


def _alert(kind: str, model: str, severity: str, window: str, ratio: str) -> dict[str, object]:
    """One expected firing alert, its annotations rendered as the rule renders them."""
    long, short = window.split("/")
    what = WHAT[kind]
    return {
        "exp_labels": {"model": model, "severity": severity, "window": window},
        "exp_annotations": {
            "summary": f"{model}: {what} burn the error budget {FACTORS[window]}x over {long}"
            f" and {short}",
            "description": f"{what.capitalize()} ratio {ratio} over {long}, against a budget of"
            " 1%; GET /admin/slo shows the gateway's own view.",
        },
    }


# 20% errors (burn 20x), 0.1% errors (0.1x), and 5% of requests over 10 s (5x)
UNIT_TEST = {
    "rule_files": [str(RULES)],
    "evaluation_interval": "1m",
    "tests": [
        {
            "interval": "1m",
            "input_series": [
                {
                    "series": 'switchboard_requests_total{model="bad",status="200"}',
                    "values": "0+80x300",
                },
                {
                    "series": 'switchboard_requests_total{model="bad",status="500"}',
                    "values": "0+20x300",
                },
                {
                    "series": 'switchboard_requests_total{model="good",status="200"}',
                    "values": "0+999x300",
                },
                {
                    "series": 'switchboard_requests_total{model="good",status="502"}',
                    "values": "0+1x300",
                },
                {
                    "series": 'switchboard_request_duration_seconds_bucket{model="slow",le="10.0"}',
                    "values": "0+95x300",
                },
                {
                    "series": 'switchboard_request_duration_seconds_count{model="slow"}',
                    "values": "0+100x300",
                },
            ],
            "promql_expr_test": [
                {
                    "expr": "round(model:switchboard_error_ratio:rate5m, 0.000001)",
                    "eval_time": "10m",
                    "exp_samples": [
                        {"labels": '{model="bad"}', "value": 0.2},
                        {"labels": '{model="good"}', "value": 0.001},
                    ],
                },
                {
                    "expr": "round(model:switchboard_slow_ratio:rate1h, 0.000001)",
                    "eval_time": "90m",
                    "exp_samples": [{"labels": '{model="slow"}', "value": 0.05}],
                },
            ],
            "alert_rule_test": [
                {  # 20x: both pages, and the 1d/2h ticket (3x, for 1h); not yet the 3d/6h one
                    "eval_time": "70m",
                    "alertname": "SwitchboardErrorBudgetBurn",
                    "exp_alerts": [
                        _alert("error", "bad", "page", "1h/5m", "20%"),
                        _alert("error", "bad", "page", "6h/30m", "20%"),
                        _alert("error", "bad", "ticket", "1d/2h", "20%"),
                    ],
                },
                {  # 5x: no page (14.4x, 6x), the 1d/2h ticket after its hour
                    "eval_time": "70m",
                    "alertname": "SwitchboardLatencyBudgetBurn",
                    "exp_alerts": [_alert("slow", "slow", "ticket", "1d/2h", "5%")],
                },
                {  # three hours later the slow 3d/6h ticket (1x, for 3h) fires too
                    "eval_time": "250m",
                    "alertname": "SwitchboardLatencyBudgetBurn",
                    "exp_alerts": [
                        _alert("slow", "slow", "ticket", "1d/2h", "5%"),
                        _alert("slow", "slow", "ticket", "3d/6h", "5%"),
                    ],
                },
                {"eval_time": "1m", "alertname": "SwitchboardErrorBudgetBurn", "exp_alerts": []},
            ],
        }
    ],
}


def test_burn_rate_alerts_fire_on_synthetic_series_with_known_rates(tmp_path: Path) -> None:
    tests = tmp_path / "slo-test.yaml"
    tests.write_text(yaml.safe_dump(UNIT_TEST))
    done = subprocess.run([promtool(), "test", "rules", str(tests)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def _exported() -> set[str]:
    metrics = Metrics()
    metrics.watch_circuits(lambda: {"a": "closed"})
    GenAiMetrics(metrics.registry, experimental=True)
    names = set()
    for family in metrics.registry.collect():
        names |= {family.name, *(s.name for s in family.samples)}
    names |= {f"{n}_bucket" for n in list(names)} | {f"{n}_total" for n in list(names)}
    names |= {f"{n}_count" for n in list(names)} | {f"{n}_sum" for n in list(names)}
    return names


def test_rules_schema_and_names() -> None:
    """Without promtool too: structure, severities, and every metric an expression reads."""
    doc = yaml.safe_load(RULES.read_text())
    rules = [r for g in doc["groups"] for r in g["rules"]]
    records = {r["record"] for r in rules if "record" in r}
    alerts = [r for r in rules if "alert" in r]
    assert len(records) == 14 and len(alerts) == 8
    assert {a["labels"]["severity"] for a in alerts} == {"page", "ticket"}
    exported = _exported()
    for rule in rules:
        for name in re.findall(r"(?<![:\w])(switchboard_\w+)", rule["expr"]):
            assert name in exported, name
        for name in re.findall(r"\b(model:switchboard_\w+:\w+)", rule["expr"]):
            assert name in records, name


def test_dashboard_schema_and_queries() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["schemaVersion"] >= 36
    panels = dashboard["panels"]
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    records = {r["record"] for g in yaml.safe_load(RULES.read_text())["groups"]
               for r in g["rules"] if "record" in r}  # fmt: skip
    exported = _exported()
    titles = set()
    for panel in panels:
        titles.add(panel["title"])
        assert {"x", "y", "w", "h"} <= set(panel["gridPos"])
        for target in panel["targets"]:
            expr = target["expr"]
            assert expr.count("(") == expr.count(")"), expr
            for name in re.findall(r"(?<![:\w])((?:switchboard|gen_ai)_\w+)(?=[\[{])", expr):
                assert name in exported, name
            for name in re.findall(r"\b(model:switchboard_\w+:\w+)", expr):
                assert name in records, name
    wanted = {"Time to first token p50 / p95 / p99", "Inter-token latency p95 by model",
              "Error budget burn rate (1h)", "Cost per hour (USD) by tenant"}  # fmt: skip
    assert wanted <= titles
