"""`switchboard config check`: one clear line per problem (file, line, field path), no traceback,
exit 1; and the README's settings table is the one generated from Settings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from switchboard.config import Settings
from switchboard.config_check import check, field_path
from switchboard.settings_table import SKIPPED, readme_table, table

ROOT = Path(__file__).resolve().parents[1]

GOOD = """\
default_model: gpt
models:
  - name: gpt
    fallbacks: [backup]
    deployments:
      - provider: openai
        model: gpt-4o-mini
        api_key: env:CHECK_TEST_KEY
  - name: backup
    deployments:
      - {provider: anthropic, model: claude, api_key: sk-x}
"""


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("SWITCHBOARD_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CHECK_TEST_KEY", "sk-test")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalogue.yaml"
    path.write_text(text)
    return path


def _lines(tmp_path: Path, text: str) -> list[str]:
    return [str(p) for p in check(_write(tmp_path, text)).problems]


def test_a_good_catalogue_passes(tmp_path: Path) -> None:
    report = check(_write(tmp_path, GOOD))
    assert report.ok and not report.problems
    assert "2 models, 2 deployments" in report.summary


def test_field_errors_name_file_line_and_path(tmp_path: Path) -> None:
    text = GOOD.replace(
        "model: gpt-4o-mini", "model: gpt-4o-mini\n        timeout: -1\n        colour: blue"
    )
    path = str(tmp_path / "catalogue.yaml")
    assert _lines(tmp_path, text) == [
        f"{path}:8: models[0].deployments[0].timeout: Input should be greater than 0",
        f"{path}:9: models[0].deployments[0].colour: unknown field 'colour'",
    ]


def test_missing_env_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHECK_TEST_KEY")
    (line,) = _lines(tmp_path, GOOD)
    assert line.endswith(
        ":8: models[0].deployments[0].api_key: "
        "environment variable CHECK_TEST_KEY named by api_key is not set"
    )


def test_unknown_provider_and_unknown_model(tmp_path: Path) -> None:
    text = GOOD.replace("provider: anthropic", "provider: antropic")
    (line,) = _lines(tmp_path, text)
    assert ":11: models[1].deployments[0].provider: unknown provider 'antropic'" in line
    (line,) = _lines(tmp_path, GOOD.replace("[backup]", "[bakup]"))
    assert line.endswith(":4: models[0].fallbacks[0]: model 'gpt' refers to unknown model 'bakup'")


def test_native_responses_only_where_the_provider_type_serves_them(tmp_path: Path) -> None:
    native = GOOD.replace("api_key: sk-x}", "api_key: sk-x, responses_api: native}")
    (line,) = _lines(tmp_path, native)
    assert ":11: models[1].deployments[0].responses_api: native needs a provider type" in line
    fine = GOOD.replace(
        "api_key: env:CHECK_TEST_KEY", "api_key: env:CHECK_TEST_KEY\n        responses_api: native"
    )
    assert _lines(tmp_path, fine) == []


def test_bad_yaml_and_missing_file(tmp_path: Path) -> None:
    (line,) = _lines(tmp_path, "models:\n  - name: a\n    deployments: [\n")
    assert ":4: not valid YAML" in line
    (line,) = [str(p) for p in check(tmp_path / "nope.yaml").problems]
    assert line.endswith("nope.yaml: cannot read: No such file or directory")


def test_environment_errors_and_typos(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_PORT", "eighty")
    monkeypatch.setenv("SWITCHBOARD_REDIS_ULR", "redis://x")
    report = check(_write(tmp_path, GOOD))
    assert not report.ok
    assert [str(p) for p in report.problems] == [
        "environment: warning: SWITCHBOARD_REDIS_ULR: not a Switchboard setting (typo?); "
        "it is ignored",
        "environment: SWITCHBOARD_PORT: Input should be a valid integer, unable to parse string"
        " as an integer",
    ]


def test_field_path() -> None:
    assert field_path(("models", 0, "deployments", 1, "api_key")) == (
        "models[0].deployments[1].api_key"
    )


def test_the_command_exits_1_without_a_traceback(tmp_path: Path) -> None:
    bad = _write(tmp_path, GOOD.replace("provider: openai", "provider: openai\n        rpm: 0"))
    run = [sys.executable, "-m", "switchboard.cli", "config", "check"]
    result = subprocess.run([*run, str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "models[0].deployments[0].rpm: Input should be greater than or equal to 1" in (
        result.stderr
    )
    good = subprocess.run(
        [*run, str(ROOT / "deploy" / "catalogue.yaml")], capture_output=True, text=True, timeout=60
    )
    assert good.returncode == 0, good.stderr
    assert good.stdout.startswith("ok: ")


def test_the_readme_lists_every_setting() -> None:
    in_readme = readme_table(ROOT / "README.md")
    assert in_readme == table(), (
        "README.md's settings table is stale: run `python -m switchboard.settings_table` and"
        " paste its output over the block between the settings-table markers"
    )
    for name in Settings.model_fields.keys() - SKIPPED:
        assert f"`SWITCHBOARD_{name.upper()}`" in in_readme
