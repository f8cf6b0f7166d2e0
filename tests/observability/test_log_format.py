"""`switchboard serve` with SWITCHBOARD_LOG_FORMAT=json: every line is one JSON object, one per
request (refusals and upstream failures included), no secret in any; unknown settings warned."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import yaml

from switchboard.observability.log_format import JsonFormatter, TextFormatter
from switchboard.testing.processes import free_port, gateway_process, wait_healthy

UPSTREAM_KEY = "sk-upstream-secret-abcdef123456"
CLIENT_KEY = "sk-client-secret-abcdef654321"


def test_json_lines_from_a_real_process(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    deployment = {"provider": "openai", "model": "m", "name": "dead-dep", "api_base": dead}
    catalogue = {
        "models": [{"name": "m", "deployments": [{**deployment, "api_key": UPSTREAM_KEY}]}]
    }
    config = tmp_path / "models.yaml"
    config.write_text(yaml.safe_dump(catalogue))
    log = tmp_path / "gateway.log"
    env = {"SWITCHBOARD_LOG_FORMAT": "json", "SWITCHBOARD_NOT_A_SETTING": "1"}
    proc = gateway_process(config, env, log=log)
    proc.start()
    try:
        wait_healthy(proc.base_url)
        auth = {"authorization": f"Bearer {CLIENT_KEY}"}
        sent = {
            "r-404": httpx.get(
                proc.base_url + "/v1/nowhere", headers={"x-request-id": "r-404", **auth}
            ),
            "r-400": httpx.post(
                proc.base_url + "/v1/chat/completions",
                content=b"{no",
                headers={"x-request-id": "r-400", **auth},
            ),
            "r-502": httpx.post(
                proc.base_url + "/v1/chat/completions",
                json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
                headers={"x-request-id": "r-502", **auth},
                timeout=30,
            ),
        }
    finally:
        proc.stop()
    assert [r.status_code for r in sent.values()] == [404, 400, 502]
    text = log.read_text()
    assert UPSTREAM_KEY not in text and CLIENT_KEY not in text
    entries = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert all({"ts", "level", "logger", "message"} <= e.keys() for e in entries)
    for request_id, resp in sent.items():
        lines = [
            e
            for e in entries
            if e["logger"] == "switchboard.request" and e.get("request_id") == request_id
        ]
        assert len(lines) == 1, (request_id, lines)
        assert lines[0]["status"] == resp.status_code
    failure = [
        e for e in entries if e["message"] == "upstream failure" and e.get("request_id") == "r-502"
    ]
    assert failure and failure[0]["deployment"] == "dead-dep"
    warned = [e for e in entries if e.get("variable") == "SWITCHBOARD_NOT_A_SETTING"]
    assert warned and warned[0]["level"] == "warning"


def test_text_lines_carry_the_fields_quoted() -> None:
    record = logging.LogRecord(
        "switchboard.request", logging.INFO, __file__, 1, "request", None, None
    )
    record.fields = {"request_id": "abc", "model": "two words", "tenant": None, "status": 200}
    line = TextFormatter().format(record)
    assert line.endswith('request request_id=abc model="two words" status=200')
    entry = json.loads(JsonFormatter().format(record))
    assert (entry["request_id"], entry["status"]) == ("abc", 200) and "tenant" not in entry
