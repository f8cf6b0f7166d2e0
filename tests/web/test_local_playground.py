"""The playground streams a reply from the embedded local model (SmolLM2, real generation), on
a gateway without keys: there the dashboard opens without a sign-in, as /metrics does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from switchboard.testing.processes import (
    ServiceProcess,
    gateway_process,
    wait_healthy,
)

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def open_gateway(
    tmp_path_factory: pytest.TempPathFactory, upstream: ServiceProcess
) -> Iterator[ServiceProcess]:
    tmp = tmp_path_factory.mktemp("local")
    local = {"provider": "local", "model": "smollm2-135m-instruct", "name": "local"}
    mock = {"provider": "openai", "api_base": f"{upstream.base_url}/v1", "model": "m"}
    catalogue = {
        "default_model": "local",
        "models": [
            {"name": "local", "deployments": [local]},
            {"name": "mock", "deployments": [{**mock, "name": "mock-a"}]},
        ],
    }
    (tmp / "catalogue.yaml").write_text(yaml.safe_dump(catalogue))
    proc = gateway_process(tmp / "catalogue.yaml", {}, tmp / "gw.log")
    proc.start()
    wait_healthy(proc.base_url)
    yield proc
    proc.stop()


def test_local_model_streams_in_the_playground(
    page: Any, open_gateway: ServiceProcess, artifacts: Path
) -> None:
    page.goto(f"{open_gateway.base_url}/dashboard")
    page.wait_for_selector("#board", state="visible")  # no key asked for
    assert page.is_hidden("#login") and page.is_hidden("#logout")
    options = page.eval_on_selector_all("#pg-model option", "os => os.map(o => o.value)")
    assert options == ["local", "mock"]
    assert page.eval_on_selector("#pg-model", "s => s.value") == "local"  # the default

    page.fill("#pg-message", "What is the capital of France?")
    page.fill("#pg-max-tokens", "16")
    page.fill("#pg-temperature", "0")
    page.click("#pg-send")
    # the first reply waits for the model to load (tens of seconds on 2 cores)
    page.wait_for_function(
        "() => document.getElementById('pg-output').textContent.length > 0", timeout=240_000
    )
    page.wait_for_function(
        "() => document.getElementById('playground').dataset.state === 'done'", timeout=60_000
    )
    assert page.inner_text("#pg-error") == ""
    assert "Paris" in page.inner_text("#pg-output")
    assert "TTFT" in page.inner_text("#pg-stats")

    # the reply is in the charts: the next polls bring its latency and time to first token
    page.wait_for_function(
        "() => Number(document.getElementById('chart-ttft').dataset.nonzero) > 0 && "
        "Number(document.getElementById('chart-latency').dataset.nonzero) > 0",
        timeout=15_000,
    )
    assert page.inner_text("#tile-ttft") != "\u2013"
    rows = page.eval_on_selector_all(
        "#deployments tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.innerText))"
    )
    assert {row[0]: row[4] for row in rows}["local"] == "yes"  # loaded: ready
    page.screenshot(path=str(artifacts / "playground-local.png"), full_page=True)
