"""End to end on simulator history: simulate -> train --quick -> registry, report, promotion rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.models import Registry
from services.cli.main import app

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim") / "history"
    r = CliRunner().invoke(app, ["simulate", "history", "--days", "5", "--out", str(out), "--seed", "3"])
    assert r.exit_code == 0, r.output
    return out


def test_train_register_report_and_promotion_rule(history: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINEWATCH_REGISTRY_DIR", str(tmp_path / "reg"))
    monkeypatch.setenv("LINEWATCH_DATA_DIR", str(tmp_path / "var"))
    runner = CliRunner()
    r = runner.invoke(app, ["train", "--quick", "--data", str(history), "--kind", "cnc", "--horizon-hours", "8",
                            "--rul-cap-hours", "48"])
    assert r.exit_code == 0, r.output
    reg = Registry(tmp_path / "reg")
    champ = reg.champion("cnc")
    assert champ is not None and "tool_wear" in champ.modes
    report = tmp_path / "var" / "reports" / f"{champ.version}.html"
    html = report.read_text()
    assert html.count("data:image/png;base64") >= 4 and "rule" in html
    metrics = json.loads(report.with_suffix(".json").read_text())
    assert metrics["future"]["modes"]["tool_wear"]["rows"] > 0 and "baseline" in metrics["future"]
    # same data again: the challenger ties the champion on the same holdout -> no promotion
    r = runner.invoke(app, ["train", "--quick", "--data", str(history), "--kind", "cnc", "--horizon-hours", "8",
                            "--rul-cap-hours", "48", "--cost-missed", "40"])
    assert r.exit_code == 0 and "kept champion" in r.output, r.output
    challenger = reg.challengers("cnc")[0]["version"]
    r = runner.invoke(app, ["models", "promote", challenger])
    assert r.exit_code == 1 and "does not beat" in r.output
    r = runner.invoke(app, ["models", "promote", challenger, "--force"])
    assert r.exit_code == 0 and reg.champion_version("cnc") == challenger
    r = runner.invoke(app, ["models", "list"])
    assert r.exit_code == 0 and "champion" in r.output and "retired" in r.output
