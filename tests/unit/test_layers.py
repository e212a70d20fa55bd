"""The layering of the house, checked over every import (including those inside functions).

saku/        the composition root: may import everything; nothing imports it
api/         HTTP routes, the Kafka intake, workflow starters: core, activities, workflows
devices/     the kiosk agent and the sensor simulator: core only (they talk to Saku by HTTP)
workflows/   orchestration only: core, and activity classes (by reference) inside
             `workflow.unsafe.imports_passed_through()`, as Temporal's samples do
activities/  every side effect: core only
core/        the shared floor: nothing above it
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "activities", "workflows", "api", "devices", "saku")
ALLOWED: dict[str, set[str]] = {
    "core": {"core"},
    "activities": {"core", "activities"},
    "workflows": {"core", "workflows"},
    "api": {"core", "activities", "workflows", "api"},
    "devices": {"core", "devices"},
    "saku": set(PACKAGES),
}
# what a workflow may import for calling activities by reference, and only there
PASSED_THROUGH = {"workflows": {"activities"}}


def _passes_through(node: ast.With) -> bool:
    return any(
        isinstance(item.context_expr, ast.Call)
        and ast.unparse(item.context_expr.func) == "workflow.unsafe.imports_passed_through"
        for item in node.items
    )


def imports(tree: ast.AST) -> Iterator[tuple[int, str, bool]]:
    """(line, top-level package, inside imports_passed_through) of every import."""

    def walk(node: ast.AST, passed: bool) -> Iterator[tuple[int, str, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield child.lineno, alias.name.split(".")[0], passed
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                yield child.lineno, child.module.split(".")[0], passed
            else:
                inside = passed or (isinstance(child, ast.With) and _passes_through(child))
                yield from walk(child, inside)

    yield from walk(tree, False)


def violations(package: str) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, top, passed in imports(ast.parse(path.read_text(), str(path))):
            if top not in PACKAGES or top in ALLOWED[package]:
                continue
            if passed and top in PASSED_THROUGH.get(package, set()):
                continue
            found.append(f"{path.relative_to(ROOT)}:{line} imports {top}")
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_no_package_imports_above_its_layer(package: str) -> None:
    assert violations(package) == []


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    tree = ast.parse(
        "import os\n"
        "from core.settings import Settings\n"
        "def late():\n    from saku.cli import main\n"
        "with workflow.unsafe.imports_passed_through():\n    from activities.x import A\n"
    )
    assert list(imports(tree)) == [
        (1, "os", False),
        (2, "core", False),
        (4, "saku", False),
        (6, "activities", True),
    ]
