"""The lint step of scripts/test.sh: a checker's findings fail the run and show in the summary."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import lint  # noqa: E402 - scripts/ is not a package; its path is added just above

MYPY = list(lint.CHECKS["mypy"])  # the step's own command, before a test replaces CHECKS


def test_a_failing_checker_fails_the_step_and_is_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(lint, "CHECKS", {
        "clean": [sys.executable, "-c", "print('all good')"],
        "dirty": [sys.executable, "-c", "import sys; print('x.py:1:1: F401 unused'); sys.exit(1)"]})
    junit = tmp_path / "lint.xml"
    assert lint.main(junit) == 1
    assert "x.py:1:1: F401 unused" in capsys.readouterr().out  # the findings are printed, not only counted
    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    assert cases["clean"].find("failure") is None
    assert "F401" in cases["dirty"].find("failure").text
    summary = subprocess.run([sys.executable, "scripts/test_summary.py", str(junit)], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.splitlines()
    assert summary == ["tier lint: 1 passed, 1 failed, 0 skipped", "1 passed, 1 failed, 0 skipped"]


def test_all_checkers_passing_pass_the_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lint, "CHECKS", {"clean": [sys.executable, "-c", "pass"]})
    assert lint.main(tmp_path / "lint.xml") == 0


def test_ruff_is_pinned_for_set_up_and_selects_the_agreed_rules() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert any(dep.startswith("ruff==") for dep in project["project"]["optional-dependencies"]["test"])
    selected = set(project["tool"]["ruff"]["lint"]["select"])
    assert {"E", "F", "B", "BLE", "SLF", "DTZ", "UP", "I"} <= selected


def _mypy_step(tmp_path: Path, source: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, ET.Element]:
    """The lint step's own mypy command (its strict config from pyproject.toml) on one module."""
    module = tmp_path / "typed.py"
    module.write_text(source)
    monkeypatch.setattr(lint, "CHECKS", {"mypy": [*MYPY, "--cache-dir", str(tmp_path / "cache"),
                                                  str(module)]})
    junit = tmp_path / "lint.xml"
    return lint.main(junit), ET.parse(junit).getroot()


def test_a_type_error_fails_the_lint_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, suite = _mypy_step(tmp_path, "def half(n: int) -> int:\n    return n / 2\n", monkeypatch)
    assert code == 1
    assert "[return-value]" in suite.find("testcase/failure").text


def test_strict_mypy_refuses_an_unannotated_function(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, suite = _mypy_step(tmp_path, "def half(n):\n    return n // 2\n", monkeypatch)
    assert code == 1 and "[no-untyped-def]" in suite.find("testcase/failure").text
    code, _ = _mypy_step(tmp_path, "def half(n: int) -> int:\n    return n // 2\n", monkeypatch)
    assert code == 0


def test_mypy_is_pinned_strict_and_covers_the_typed_packages() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert any(dep.startswith("mypy==") for dep in project["project"]["optional-dependencies"]["test"])
    config = project["tool"]["mypy"]
    assert config["strict"] is True
    assert {"contracts", "runtime", "store", "pipelines"} <= set(config["files"])
    assert not any("pipelines" in pattern for pattern in config.get("exclude", []))  # all of it
