"""The layout the README describes holds: layers import downwards only, no package cycles, every import resolves.

The layers and the figures are those of ``scripts/layout_report.py`` (run it for the full report).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("layout_report", ROOT / "scripts" / "layout_report.py")
layout = importlib.util.module_from_spec(spec)
spec.loader.exec_module(layout)


def test_no_layer_imports_a_higher_one():
    assert layout.upward_imports(layout.import_graph()) == []


def test_no_package_imports_itself_through_others():
    assert layout.package_cycles(layout.import_graph()) == []


def test_every_layer_has_a_rank():
    graph = layout.import_graph()
    unranked = {layout.layer(m) for m in graph} - set(layout.RANK) - set(layout.SHARED)
    assert unranked == set()


def _imports_of(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("minqing") and not node.level:
            yield node.module, [a.name for a in node.names]


FILES = sorted([*(ROOT / "src").rglob("*.py"), *(ROOT / "benchmarks").glob("*.py"), ROOT / "app.py",
                *(ROOT / "views").glob("*.py")])


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_project_import_resolves(path):
    """Lazy imports inside functions too: a moved name must not survive in a branch no test runs."""
    missing = []
    for module, names in _imports_of(path):
        mod = importlib.import_module(module)
        for name in names:
            if not hasattr(mod, name) and importlib.util.find_spec(f"{module}.{name}") is None:
                missing.append(f"{module}.{name}")
    assert missing == []
