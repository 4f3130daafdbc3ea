"""The KPI engine sees only the event stream: it must not import simulator internals."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
FORBIDDEN = {"simulators", "kafka", "runtime", "sqlalchemy", "fastapi", "services"}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_kpi_engine_imports_nothing_from_simulators() -> None:
    files = sorted((ROOT / "pipelines" / "kpis").rglob("*.py"))
    assert files, "pipelines/kpis has no modules"
    bad = {str(p.relative_to(ROOT)): sorted(imported_roots(p) & FORBIDDEN) for p in files}
    assert not {k: v for k, v in bad.items() if v}


def test_checker_sees_a_simulator_import(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("from simulators.line import Line\n")
    assert "simulators" in imported_roots(probe)
