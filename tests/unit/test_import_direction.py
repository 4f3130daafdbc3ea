"""Data flows one way: a module never imports a layer downstream of its own, and pure
cores import no Kafka, FastAPI or database library."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ["contracts", "runtime", "simulators", "pipelines", "services"]
IO_LIBRARIES = {"kafka", "fastapi", "starlette", "sqlalchemy", "psycopg", "uvicorn", "asyncua", "paho", "pymodbus"}
# Pure cores: folders whose modules must not touch I/O libraries. Add new cores here.
PURE = ["contracts", "simulators/physics", "pipelines/features", "pipelines/models", "pipelines/training", "pipelines/kpis", "pipelines/health", "services/connectors/core"]


def imports_of(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def python_files(folder: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).rglob("*.py") if ".venv" not in p.parts)


def wrong_way(layer: str, path: Path) -> list[str]:
    mine = LAYERS.index(layer)
    return [name for name in imports_of(path)
            if name.split(".")[0] in LAYERS and LAYERS.index(name.split(".")[0]) > mine]


@pytest.mark.parametrize("layer", LAYERS)
def test_no_import_points_downstream(layer: str) -> None:
    bad = {str(p.relative_to(ROOT)): wrong_way(layer, p) for p in python_files(layer)}
    bad = {k: v for k, v in bad.items() if v}
    assert not bad, f"imports against the data flow ({' < '.join(LAYERS)}): {bad}"


@pytest.mark.parametrize("folder", PURE)
def test_pure_cores_import_no_io(folder: str) -> None:
    bad = {}
    for p in python_files(folder):
        hits = [n for n in imports_of(p) if n.split(".")[0] in IO_LIBRARIES or n.split(".")[0] == "runtime"]
        if hits:
            bad[str(p.relative_to(ROOT))] = hits
    assert not bad, f"pure cores must not import I/O libraries: {bad}"


def test_checker_catches_a_wrong_way_import(tmp_path: Path) -> None:
    bad = tmp_path / "mod.py"
    bad.write_text("from services.api import app\nimport contracts\n")
    assert wrong_way("pipelines", bad) == ["services.api"]
    assert wrong_way("services", bad) == []
