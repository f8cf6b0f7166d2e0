"""`switchboard config check [FILE]`: validate a catalogue and the SWITCHBOARD_* environment
without starting anything. Every problem is one line naming the file, line and field path."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from switchboard.catalogue import Catalogue
from switchboard.config import Settings
from switchboard.providers.capabilities import capabilities
from switchboard.providers.registry import FACTORIES

ENV = "environment"
Loc = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """One configuration error (or, with `warning`, something suspicious that still loads)."""

    source: str
    line: int | None
    field: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        kind = "warning: " if self.warning else ""
        return (
            f"{where}: {kind}{self.field}: {self.message}"
            if self.field
            else f"{where}: {kind}{self.message}"
        )


@dataclass(frozen=True, slots=True)
class Report:
    problems: list[Problem]
    summary: str

    @property
    def ok(self) -> bool:
        return not any(not p.warning for p in self.problems)


def field_path(loc: Loc) -> str:
    """('models', 0, 'deployments', 1, 'api_key') -> 'models[0].deployments[1].api_key'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _message(error: Mapping[str, Any]) -> str:
    if error["type"] == "extra_forbidden" and error["loc"]:
        return f"unknown field {error['loc'][-1]!r}"
    if error["type"] == "missing":
        return "required field is missing"
    return str(error["msg"]).removeprefix("Value error, ")


def check_environment(environ: Mapping[str, str]) -> tuple[Settings | None, list[Problem]]:
    """Settings as `serve` would build them; unknown SWITCHBOARD_* names are warnings."""
    problems = [
        Problem(ENV, None, name, "not a Switchboard setting (typo?); it is ignored", warning=True)
        for name in sorted(environ)
        if name.startswith("SWITCHBOARD_")
        and name.removeprefix("SWITCHBOARD_").lower() not in Settings.model_fields
    ]
    try:
        return Settings(), problems
    except ValidationError as exc:
        for error in exc.errors():
            name = "SWITCHBOARD_" + str(error["loc"][0]).upper() if error["loc"] else ""
            problems.append(Problem(ENV, None, name, _message(error)))
        return None, problems


class _Lines:
    """Line numbers of the YAML nodes, looked up by a pydantic error location."""

    def __init__(self, root: yaml.Node | None) -> None:
        self.root = root

    def node(self, loc: Loc) -> tuple[yaml.Node | None, int | None]:
        node, line = self.root, self._line(self.root)
        for part in loc:
            child = self._child(node, part)
            if child is None:
                break
            node, line = child[1], child[0]
        return node, line

    @staticmethod
    def _line(node: yaml.Node | None) -> int | None:
        return node.start_mark.line + 1 if node is not None else None

    def _child(
        self, node: yaml.Node | None, part: str | int
    ) -> tuple[int | None, yaml.Node] | None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    return self._line(key), value
        if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            item = node.value[part]
            return self._line(item), item
        return None

    def find_scalar(self, node: yaml.Node | None, value: str, loc: Loc) -> tuple[Loc, int] | None:
        """The first scalar equal to `value` under `node`, for errors that name a value."""
        if isinstance(node, yaml.ScalarNode) and node.value == value and loc:
            return loc, node.start_mark.line + 1
        children: list[tuple[str | int, yaml.Node]] = []
        if isinstance(node, yaml.MappingNode):
            children = [(k.value, v) for k, v in node.value]
        elif isinstance(node, yaml.SequenceNode):
            children = list(enumerate(node.value))
        for part, child in children:
            found = self.find_scalar(child, value, (*loc, part))
            if found:
                return found
        return None


def _locate_cross_reference(data: Any, lines: _Lines, message: str) -> tuple[Loc, int | None]:
    """Catalogue-wide errors name models ('model 'a' refers to unknown model 'b''): point there."""
    names = re.findall(r"'([^']+)'", message)
    models = data.get("models") if isinstance(data, dict) else None
    if not names or not isinstance(models, list):
        return (), lines.node(())[1]
    for index, model in enumerate(models):
        if isinstance(model, dict) and model.get("name") == names[0]:
            node, line = lines.node(("models", index))
            target = (
                lines.find_scalar(node, names[1], ("models", index)) if len(names) > 1 else None
            )
            return target if target else (("models", index), line)
    found = lines.find_scalar(lines.root, names[0], ())
    return found if found else ((), lines.node(())[1])


def _catalogue_problems(source: str, text: str) -> tuple[Catalogue | None, list[Problem]]:
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [Problem(source, line, "", f"not valid YAML: {problem}")]
    if not isinstance(data, dict):
        return None, [Problem(source, 1, "", "a catalogue is a mapping with a `models:` list")]
    lines = _Lines(root)
    problems = _provider_problems(source, data, lines)
    try:
        catalogue = Catalogue.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc: Loc = tuple(error["loc"])
            line = lines.node(loc)[1]
            if not loc:
                loc, line = _locate_cross_reference(data, lines, _message(error))
            problems.append(Problem(source, line, field_path(loc), _message(error)))
        return None, sorted(problems, key=lambda p: p.line or 0)
    return catalogue, problems


def _provider_problems(source: str, data: dict[str, Any], lines: _Lines) -> list[Problem]:
    known = ", ".join(sorted(FACTORIES))
    problems = []
    models = data.get("models")
    for i, model in enumerate(models if isinstance(models, list) else []):
        deployments = model.get("deployments") if isinstance(model, dict) else None
        for j, deployment in enumerate(deployments if isinstance(deployments, list) else []):
            if not isinstance(deployment, dict):
                continue
            provider = deployment.get("provider")
            loc: Loc = ("models", i, "deployments", j, "provider")
            if provider not in FACTORIES:
                message = f"unknown provider {provider!r} (known: {known})"
            elif deployment.get("responses_api") == "native" and not (
                capabilities(str(provider)).native_responses
            ):
                loc = (*loc[:-1], "responses_api")
                message = (
                    f"native needs a provider type that serves /v1/responses, not {provider!r}"
                )
            else:
                continue
            problems.append(Problem(source, lines.node(loc)[1], field_path(loc), message))
    return problems


def check(path: str | Path | None) -> Report:
    """Check the environment, then the catalogue at `path` (default: SWITCHBOARD_CONFIG)."""
    settings, problems = check_environment(os.environ)
    if path is None and settings is not None:
        path = settings.config
    if path is None:
        return Report(problems, "no catalogue: the embedded local model")
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        return Report([*problems, Problem(source, None, "", f"cannot read: {exc.strerror}")], "")
    catalogue, found = _catalogue_problems(source, text)
    problems += found
    if catalogue is None or found:
        return Report(problems, "")
    deployments = sum(len(m.deployments) for m in catalogue.models)
    summary = f"{source}: {len(catalogue.models)} models, {deployments} deployments"
    return Report(problems, summary)
