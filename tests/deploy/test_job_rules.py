"""The shipped Prometheus alerts for background jobs: `promtool check rules` and `promtool test
rules` on synthetic series (a stuck queue, dead-lettered jobs, an unreadable job table), and a
check that every expression reads a metric the gateway exports."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from switchboard.observability.metrics import Metrics
from tests.deploy.test_slo_rules import DEPLOY, promtool

RULES = DEPLOY / "prometheus" / "rules" / "switchboard-jobs.yaml"


def test_promtool_checks_the_job_rules() -> None:
    done = subprocess.run(
        [promtool(), "check", "rules", str(RULES)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 3 rules found" in done.stdout


def _series(name: str, values: str) -> dict[str, str]:
    return {"series": name, "values": values}


# Two replicas report the same queue (read from one table); ingest's oldest job waits ever
# longer from minute 0, batch's stays at 10 s. Two ingest jobs dead-letter at minute 30.
# Both replicas' reads of the job table fail from minute 40.
UNIT_TEST = {
    "evaluation_interval": "1m",
    "tests": [
        {
            "interval": "1m",
            "input_series": [
                _series('switchboard_jobs_oldest_queued_age_seconds{kind="ingest",instance="a"}',
                        "0+60x60"),
                _series('switchboard_jobs_oldest_queued_age_seconds{kind="ingest",instance="b"}',
                        "0+60x60"),
                _series('switchboard_jobs_oldest_queued_age_seconds{kind="batch",instance="a"}',
                        "10x60"),
                _series('switchboard_jobs_finished_total{kind="ingest",outcome="dead_letter"}',
                        "0x30 2x30"),
                _series('switchboard_jobs_finished_total{kind="batch",outcome="succeeded"}',
                        "0+5x60"),
                _series('switchboard_jobs_table_up{instance="a"}', "1x40 0x20"),
                _series('switchboard_jobs_table_up{instance="b"}', "1x40 0x20"),
            ],
            "alert_rule_test": [
                # 300 s waited at minute 5, firing once it has held 5 minutes: not at 9m, at 11m
                {"eval_time": "9m", "alertname": "SwitchboardJobsBacklog", "exp_alerts": []},
                {
                    "eval_time": "11m",
                    "alertname": "SwitchboardJobsBacklog",
                    "exp_alerts": [{
                        "exp_labels": {"kind": "ingest", "severity": "ticket"},
                        "exp_annotations": {
                            "summary": "ingest jobs have waited over 5 minutes",
                            "description": "The oldest waiting ingest job has waited 11m 0s: no"
                            " worker takes jobs, or too few keep up (KEDA scales them on the"
                            " queue's depth).",
                        },
                    }],
                },
                {"eval_time": "29m", "alertname": "SwitchboardJobsDeadLettered", "exp_alerts": []},
                {
                    "eval_time": "35m",
                    "alertname": "SwitchboardJobsDeadLettered",
                    "exp_alerts": [{
                        "exp_labels": {"kind": "ingest", "severity": "ticket"},
                        "exp_annotations": {
                            "summary": "ingest jobs went to the dead letter in the last hour",
                            "description": "2 ingest jobs used up their retries in the last hour;"
                            " GET /v1/tasks/{id} shows each one's last error.",
                        },
                    }],
                },
                {"eval_time": "43m", "alertname": "SwitchboardJobTableUnreadable",
                 "exp_alerts": []},
                {
                    "eval_time": "46m",
                    "alertname": "SwitchboardJobTableUnreadable",
                    "exp_alerts": [{
                        "exp_labels": {"severity": "page"},
                        "exp_annotations": {
                            "summary": "The gateways cannot read the job table",
                            "description": "Every gateway's last read of the job table failed for"
                            " 5 minutes: jobs can be neither queued nor polled. Check the database"
                            " named by SWITCHBOARD_DATABASE_URL.",
                        },
                    }],
                },
            ],
        }
    ],
}  # fmt: skip


def test_job_alerts_fire_on_synthetic_series(tmp_path: Path) -> None:
    tests = tmp_path / "jobs-test.yaml"
    tests.write_text(yaml.safe_dump({"rule_files": [str(RULES)], **UNIT_TEST}))
    done = subprocess.run([promtool(), "test", "rules", str(tests)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_job_rules_read_exported_metrics() -> None:
    exported = set()
    for family in Metrics().registry.collect():
        exported |= {family.name, f"{family.name}_total", *(s.name for s in family.samples)}
    rules = [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]
    assert [r["alert"] for r in rules] == [
        "SwitchboardJobsBacklog", "SwitchboardJobsDeadLettered", "SwitchboardJobTableUnreadable"
    ]  # fmt: skip
    for rule in rules:
        assert rule["labels"]["severity"] in {"page", "ticket"}
        for name in re.findall(r"(?<![:\w])(switchboard_\w+)", rule["expr"]):
            assert name in exported, name
