"""deploy/Dockerfile: hadolint-clean, non-root, health-checked, and its build context complete."""

from __future__ import annotations

import fnmatch
import re
import subprocess

from tests.deploy.conftest import DEPLOY, ROOT, tool

DOCKERFILE = DEPLOY / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def _stages() -> dict[str, list[tuple[str, str]]]:
    stages: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for word, rest in _instructions():
        if word == "FROM":
            current = stages.setdefault(rest.split(" AS ")[-1].strip(), [])
        current.append((word, rest))
    return stages


def test_hadolint_is_clean() -> None:
    result = subprocess.run(
        [tool("hadolint"), "--no-color", str(DOCKERFILE)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_both_gateway_targets_run_as_a_numeric_non_root_user() -> None:
    stages = _stages()
    assert list(stages)[-1] == "gateway", "the default target (last stage) is the slim gateway"
    for name in ("gateway", "gateway-local"):
        users = [rest for word, rest in stages[name] if word == "USER"]
        assert users and users[-1].split(":")[0] not in ("0", "root"), name
        assert users[-1].split(":")[0].isdigit(), "numeric, so runAsNonRoot can verify it"


def test_health_check_and_entry_point() -> None:
    runtime = dict(_stages()["runtime"])
    assert "/health" in runtime["HEALTHCHECK"]
    assert runtime["ENTRYPOINT"] == '["switchboard"]'
    assert runtime["CMD"] == '["serve"]'


def test_the_local_model_is_an_optional_stage() -> None:
    stages = _stages()
    assert "torch==" in " ".join(rest for _, rest in stages["build-local"])
    assert not any("torch" in rest for _, rest in stages["build"])


def test_the_local_weight_cache_is_a_volume_the_user_can_write() -> None:
    local = _stages()["gateway-local"]
    envs = " ".join(rest for word, rest in local if word == "ENV")
    match = re.search(r"SWITCHBOARD_LOCAL_MODEL_CACHE_DIR=(\S+)", envs)
    assert match, "the weight cache folder is set"
    folder = match.group(1)
    assert any(word == "VOLUME" and folder in rest for word, rest in local)
    runs = " ".join(rest for word, rest in local if word == "RUN")
    assert f"mkdir -p {folder}" in runs and "chown -R 10001:10001" in runs
    words = [word for word, _ in local]
    assert words.index("VOLUME") < words.index("USER"), "made and owned before dropping root"


def _ignored(path: str, patterns: list[str]) -> bool:
    """.dockerignore semantics for the patterns we use: the last matching line wins."""
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        if pattern == "**" or fnmatch.fnmatch(path, pattern) or path.startswith(pattern + "/"):
            ignored = not negate
    return ignored


def test_every_copied_path_is_in_the_build_context() -> None:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    patterns = [p.strip() for p in lines if p.strip() and not p.startswith("#")]
    copies = [rest for word, rest in _instructions() if word == "COPY" and "--from" not in rest]
    sources = [src for rest in copies for src in rest.split()[:-1]]
    assert sources
    for src in sources:
        assert (ROOT / src).exists(), src
        assert not _ignored(src.rstrip("/"), patterns), f"{src} is excluded by .dockerignore"
    assert _ignored("tests/conftest.py", patterns)
    assert _ignored(".venv/bin/python", patterns)
