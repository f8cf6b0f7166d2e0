"""`switchboard keys ...` against a temporary SQLite database named by the environment."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from switchboard.keys.cli import add_keys_commands


@pytest.fixture
def keys_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> argparse.ArgumentParser:
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("SWITCHBOARD_KEY_PEPPER", "cli-pepper")
    parser = argparse.ArgumentParser(prog="switchboard")
    add_keys_commands(parser.add_subparsers(dest="command", required=True))
    return parser


def run(
    parser: argparse.ArgumentParser, capsys: pytest.CaptureFixture[str], *argv: str
) -> tuple[int, Any, str]:
    args = parser.parse_args(["keys", *argv])
    code: int = args.func(args)
    out, err = capsys.readouterr()
    return code, json.loads(out) if out else None, err


def test_create_list_show_revoke(
    keys_cli: argparse.ArgumentParser,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    code, created, err = run(
        keys_cli, capsys, "create", "--name", "ci", "--tenant", "acme", "--models", "a, b",
        "--rpm", "60", "--budget", "2.5", "--budget-period", "daily", "--expires-in-days", "30",
    )  # fmt: skip
    assert code == 0 and "not be shown again" in err
    plaintext, record = created["key"], created["api_key"]
    assert plaintext.startswith("sk-sb-") and record["allowed_models"] == ["a", "b"]
    assert (record["rpm"], record["budget_usd"], record["budget_period"]) == (60, 2.5, "daily")
    assert record["expires_at"] is not None and record["status"] == "active"

    run(keys_cli, capsys, "create", "--name", "other", "--tenant", "globex")
    code, listed, _ = run(keys_cli, capsys, "list", "--tenant", "acme")
    assert code == 0 and [k["id"] for k in listed] == [record["id"]]
    code, shown, _ = run(keys_cli, capsys, "show", record["id"])
    assert shown == record
    code, revoked, _ = run(keys_cli, capsys, "revoke", record["id"])
    assert code == 0 and revoked["status"] == "revoked"
    code, everything, _ = run(keys_cli, capsys, "list")
    assert len(everything) == 2
    for text in (json.dumps(listed), json.dumps(everything), caplog.text):
        assert plaintext not in text and plaintext[12:] not in text


def test_unknown_ids_and_bad_values(
    keys_cli: argparse.ArgumentParser, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(keys_cli, capsys, "show", "nope")[0] == 1
    assert run(keys_cli, capsys, "revoke", "nope")[0] == 1
    code, _, err = run(keys_cli, capsys, "create", "--name", "n", "--tenant", "t", "--rpm", "0")
    assert code == 2 and "rpm" in err
    assert run(keys_cli, capsys, "migrate")[0] == 0
    with pytest.raises(SystemExit):
        keys_cli.parse_args(
            ["keys", "create", "--name", "n", "--tenant", "t", "--budget-period", "weekly"]
        )


@pytest.mark.parametrize(
    ("option", "value", "field"),
    [
        ("--rpm", "2147483648", "rpm"),
        ("--tpm", "1000000001", "tpm"),
        ("--max-concurrency", "0", "max_concurrency"),
        ("--budget", "1e20", "budget_usd"),
        ("--budget", "nan", "budget_usd"),
        ("--expires-in-days", "1e10", "expires_at"),
        ("--expires-in-days", "2913000", "expires_at"),
        ("--expires-in-days", "3000000", "expires_at"),
        ("--expires-in-days", "-1", "expires_at"),
        ("--name", "x" * 201, "name"),
    ],
)
def test_create_applies_the_admin_api_bounds(
    keys_cli: argparse.ArgumentParser,
    capsys: pytest.CaptureFixture[str],
    option: str,
    value: str,
    field: str,
) -> None:
    argv = ["create", "--name", "n", "--tenant", "t", option, value]
    code, out, err = run(keys_cli, capsys, *argv)
    assert code == 2 and out is None
    assert field in err and "Traceback" not in err
    assert run(keys_cli, capsys, "list")[1] == []


def test_list_and_show_never_migrate(
    keys_cli: argparse.ArgumentParser, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for argv in (["list"], ["show", "some-id"]):
        code, out, err = run(keys_cli, capsys, *argv)
        assert code == 1 and out is None and "keys migrate" in err
    import sqlite3

    with sqlite3.connect(tmp_path / "cli.db") as db:
        tables = db.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
    assert tables == []
    assert run(keys_cli, capsys, "migrate")[0] == 0
    assert run(keys_cli, capsys, "list")[:2] == (0, [])
