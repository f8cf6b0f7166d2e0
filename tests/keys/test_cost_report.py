"""Cost reports: projection maths with known answers, and the same report from a real SQLite
usage table through `GET /admin/cost` and `switchboard usage report` (table and CSV)."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from switchboard.config import Settings
from switchboard.keys.cost_report import budget_outlook, projection
from switchboard.keys.models import ApiKey, NewKey, UsageRow
from switchboard.keys.store import SqlKeyStore
from switchboard.keys.usage_cli import add_usage_commands
from switchboard.testing.harness import BackgroundLoop, MockUpstream, run_gateway
from tests.conftest import mock_catalogue

MASTER = "mk-cost-report-0123456789abcdef"
NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)  # 9.5 days into a 31-day month


def key(budget: float | None, period: str) -> ApiKey:
    return ApiKey(
        id="k1", name="n", tenant="t", prefix="sk-sb-x", allowed_models=None, rpm=None, tpm=None,
        max_concurrency=None, budget_usd=budget, budget_period=period,  # type: ignore[arg-type]
        expires_at=None, revoked_at=None, created_at=NOW,
    )  # fmt: skip


def test_projections_with_known_answers() -> None:
    rows = [UsageRow("k1", "t", "m", date(2026, 12, d), 1, cost_usd=0.95) for d in range(1, 11)]
    p = projection(rows, NOW)
    assert p["month_to_date_usd"] == pytest.approx(9.5)
    assert p["days_elapsed"] == 9.5 and p["days_in_month"] == 31
    assert p["projected_month_end_usd"] == pytest.approx(31.0)  # $1/day for 31 days
    monthly = budget_outlook(key(20.0, "monthly"), 9.5, 9.5, NOW)
    assert monthly is not None
    assert monthly["projected_usd"] == pytest.approx(31.0) and monthly["projected_over"]
    assert monthly["remaining_usd"] == pytest.approx(10.5)
    daily = budget_outlook(key(5.0, "daily"), 1.0, 9.5, NOW.replace(hour=6))  # a quarter day
    assert daily is not None and daily["projected_usd"] == pytest.approx(4.0)
    assert not daily["projected_over"]
    total = budget_outlook(key(100.0, "total"), 50.0, 9.5, NOW)  # 50 ever, $1/day from now
    assert total is not None and total["projected_usd"] == pytest.approx(71.5)
    assert budget_outlook(key(None, "total"), 1.0, 1.0, NOW) is None


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, dict[str, str]]:
    """A usage table: three keys of two tenants, this month and the month before."""
    url = f"sqlite:///{tmp_path / 'cost.db'}"
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", url)
    today = datetime.now(UTC).date()
    first = today.replace(day=1)
    before = first - timedelta(days=1)

    async def fill() -> dict[str, str]:
        store = SqlKeyStore.from_settings(Settings(database_url=url))
        await store.migrate()
        ids = {}
        for name, tenant, budget in (("big", "acme", 1.0), ("small", "acme", None),
                                     ("other", "globex", None)):  # fmt: skip
            _, made = await store.create(NewKey(name, tenant, budget_usd=budget,
                                                budget_period="monthly"))  # fmt: skip
            ids[name] = made.id
        await store.record_usage([
            UsageRow(ids["big"], "acme", "gpt", today, 10, 1000, 500, 0, 3.0),
            UsageRow(ids["big"], "acme", "claude", first, 5, 100, 50, 0, 1.0),
            UsageRow(ids["small"], "acme", "gpt", today, 2, 10, 5, 0, 0.25),
            UsageRow(ids["other"], "globex", "claude", today, 1, 10, 5, 0, 0.5),
            UsageRow(ids["other"], "globex", "claude", before, 1, 10, 5, 0, 7.0),
        ])  # fmt: skip
        await store.aclose()
        return ids

    return url, asyncio.run(fill())


def test_admin_cost_endpoint(
    database: tuple[str, dict[str, str]], background: BackgroundLoop, mock_upstream: MockUpstream
) -> None:
    url, ids = database
    settings = Settings(catalogue=mock_catalogue(mock_upstream), master_key=MASTER,
                        database_url=url)  # fmt: skip
    with run_gateway(background, settings) as gw:
        assert httpx.get(gw.base + "/admin/cost").status_code == 401
        auth = {"authorization": f"Bearer {MASTER}"}
        resp = httpx.get(gw.base + "/admin/cost", headers=auth)
        bad = httpx.get(gw.base + "/admin/cost?since=2026-02-02&until=2026-02-01", headers=auth)
        top1 = httpx.get(gw.base + "/admin/cost?top=1", headers=auth).json()
    assert resp.status_code == 200 and bad.status_code == 400
    body = resp.json()
    assert body["object"] == "cost.report" and body["total"]["cost_usd"] == pytest.approx(4.75)
    assert [(m["model"], m["cost_usd"]) for m in body["by_model"]] == [
        ("gpt", 3.25),
        ("claude", 1.5),
    ]
    assert [(t["tenant"], t["cost_usd"]) for t in body["by_tenant"]] == [
        ("acme", 4.25),
        ("globex", 0.5),
    ]
    assert [(k["name"], k["cost_usd"]) for k in body["top_spenders"]] == [
        ("big", 4.0), ("other", 0.5), ("small", 0.25)
    ]  # fmt: skip
    assert [k["key_id"] for k in top1["top_spenders"]] == [ids["big"]]
    assert body["projection"]["month_to_date_usd"] == pytest.approx(4.75)
    (outlook,) = body["budgets"]
    assert outlook["key_id"] == ids["big"] and outlook["spent_usd"] == pytest.approx(4.0)
    assert outlook["projected_over"] and outlook["remaining_usd"] == pytest.approx(-3.0)


def test_usage_report_command_table_and_csv(
    database: tuple[str, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser(prog="switchboard")
    add_usage_commands(parser.add_subparsers(dest="command", required=True))

    def run(*argv: str) -> str:
        args = parser.parse_args(["usage", "report", *argv])
        assert args.func(args) == 0
        return capsys.readouterr().out

    text = run()
    lines = text.splitlines()
    assert lines[1].split() == ["model", "requests", "prompt_tokens", "completion_tokens",
                                "cached_tokens", "cost_usd"]  # fmt: skip
    assert lines[3].split()[0] == "gpt" and lines[3].split()[-1] == "3.250000"
    assert "projected" in text and "over budget" in text and "big" in text
    rows = list(csv.DictReader(io.StringIO(run("--by", "key", "--csv"))))
    assert [(r["name"], float(r["cost_usd"])) for r in rows] == [
        ("big", 4.0), ("other", 0.5), ("small", 0.25)
    ]  # fmt: skip
    before = datetime.now(UTC).date().replace(day=1) - timedelta(days=1)
    days = list(csv.DictReader(io.StringIO(run("--by", "day", "--csv", "--since",
                                               before.isoformat()))))  # fmt: skip
    assert days[0]["day"] == before.isoformat() and float(days[0]["cost_usd"]) == 7.0
