"""Data flows one way: a module never imports a layer downstream of its own, pure cores
import no Kafka, FastAPI or database library, only the store talks SQL, connectors never
lean on the simulator, and no module imports another module's private names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ["contracts", "runtime", "store", "simulators", "pipelines", "services"]
DATABASE_LIBRARIES = {"sqlalchemy", "alembic", "psycopg"}
IO_LIBRARIES = {"kafka", "fastapi", "starlette", "sqlalchemy", "psycopg", "uvicorn", "asyncua", "paho", "pymodbus"}
# Pure cores: folders whose modules must not touch I/O libraries. Add new cores here.
PURE = ["contracts", "simulators/physics", "pipelines/signalquality", "pipelines/features", "pipelines/models",
        "pipelines/training", "pipelines/kpis", "pipelines/health", "services/connectors/core"]


def imports_of(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_imports(path: Path, root: Path = ROOT) -> list[str]:
    """Our own private names imported from another module (``from our.module import _name``), and
    private modules imported from outside their package (``from our.pkg._module import x``)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    try:
        package = ".".join(path.resolve().relative_to(root).parent.parts)
    except ValueError:
        package = ""
    hits = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.ImportFrom) and node.module and node.level == 0
                and node.module.split(".")[0] in LAYERS + ["bench"]):
            continue
        parts = node.module.split(".")
        hits += [f"{node.module}.{a.name}" for a in node.names if _private(a.name)
                 and not (node.module == package and (root / Path(*parts) / f"{a.name}.py").exists())]
        owner = ".".join(parts[:next((i for i, part in enumerate(parts) if _private(part)), len(parts))])
        if owner != node.module and owner != package:
            hits.append(node.module)
    return hits


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


@pytest.mark.parametrize("layer", [name for name in LAYERS if name != "store"] + ["bench"])
def test_only_the_store_talks_to_the_database(layer: str) -> None:
    bad = {str(p.relative_to(ROOT)): hits for p in python_files(layer)
           if (hits := [n for n in imports_of(p) if n.split(".")[0] in DATABASE_LIBRARIES])}
    assert not bad, f"only store/ may import a database library; go through store.repos instead: {bad}"


def test_connectors_never_import_the_simulator() -> None:
    bad = {str(p.relative_to(ROOT)): hits for p in python_files("services/connectors")
           if (hits := [n for n in imports_of(p) if n.split(".")[0] == "simulators"])}
    assert not bad, f"connectors talk to real PLCs; shared wire formats live in contracts: {bad}"


@pytest.mark.parametrize("folder", LAYERS + ["bench", "tests"])
def test_no_module_imports_private_names(folder: str) -> None:
    bad = {str(p.relative_to(ROOT)): hits for p in python_files(folder) if (hits := private_imports(p))}
    assert not bad, f"a leading underscore means 'mine': make it public or move it: {bad}"


def test_checkers_catch_database_and_private_imports(tmp_path: Path) -> None:
    bad = tmp_path / "mod.py"
    bad.write_text("from sqlalchemy import select\nfrom services.connectors.opcua import _wait\n"
                   "from services.cli._children import Children\nfrom google.protobuf import descriptor as _d\n")
    assert [n for n in imports_of(bad) if n.split(".")[0] in DATABASE_LIBRARIES] == ["sqlalchemy"]
    assert private_imports(bad) == ["services.connectors.opcua._wait", "services.cli._children"]
    sibling = tmp_path / "services" / "api" / "schemas" / "auth.py"
    sibling.parent.mkdir(parents=True)
    sibling.write_text("from services.api.schemas.common import In\n")
    assert private_imports(sibling, root=tmp_path) == []  # a package's private module, used inside it
