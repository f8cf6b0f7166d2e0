"""Imports point down (core-joins join 5): no import cycle inside the package, and no lower room
imports the HTTP surface or the pipeline. Type-only imports (under TYPE_CHECKING) are exempt."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import switchboard

PACKAGE = Path(switchboard.__file__).parent
# rooms that may import the pipeline; only these and api/ itself may import api/
# jobs/ is a way in like api/ (a worker enters the pipeline as HTTP does) and reads the same
# wire bodies (a batch line is a chat completion body), so it may import both
UPPER = {
    "api",
    "pipeline",
    "app",
    "cli",
    "gateway",
    "components",
    "server",
    "connection_guard",
    "testing",
    "jobs",
}
DOORS = ("api", "app", "cli", "server", "connection_guard", "jobs")


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only.update(id(n) for n in ast.walk(node))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("switchboard"):
            found.add(str(node.module))
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("switchboard"))
    return found


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        graph[_module(path)] |= _runtime_imports(path)
    return graph


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def test_no_import_cycles() -> None:
    graph = _graph()
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        for dep in sorted(graph.get(node, ())):
            assert dep not in path, "import cycle: " + " -> ".join([*path, dep])
            if dep not in done:
                visit(dep, [*path, dep])
        done.add(node)

    for module in sorted(graph):
        visit(module, [module])


def test_lower_rooms_do_not_import_api_or_pipeline() -> None:
    upward = [
        f"{module} -> {dep}"
        for module, deps in _graph().items()
        for dep in deps
        if (_room(module) not in UPPER and _room(dep) in ("api", "pipeline"))
        or (_room(dep) == "api" and _room(module) not in DOORS)
    ]
    assert upward == []
