"""`linewatch pilot` end to end on the real simulator core: report files, reproducibility,
the predictive arm through the real scoring core, and clear errors for bad options."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli.main import app

VOLATILE = ("generated_at", "runtime_s")


@pytest.fixture(autouse=True)
def short_training_history(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """One day of training history for the preventive optimisation (the default 60 take minutes)."""
    monkeypatch.setenv("LINEWATCH_PILOT__TRAINING_DAYS", "1")
    monkeypatch.setenv("LINEWATCH_REGISTRY_DIR", str(tmp_path / "default-registry"))


def pilot(out: Path, *args: str) -> dict:
    result = CliRunner().invoke(app, ["pilot", "--days", "0.5", "--workers", "1", "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "latest.json").read_text())
    assert (out / "latest.html").read_text().startswith("<!doctype html>")
    return {k: v for k, v in report.items() if k not in VOLATILE}


def test_same_seeds_reproduce_the_same_numbers(tmp_path: Path) -> None:
    args = ("--seeds", "1,2", "--arms", "run_to_failure,preventive", "--interval", "tool_wear=6", "--no-shadow",
            "--no-train")
    first = pilot(tmp_path / "a", *args)
    again = pilot(tmp_path / "b", *args)
    assert first == again
    assert first["arms"]["run_to_failure"]["plant"]["kpis"]["good_parts"]["n"] == 2
    assert first["assumptions"]["commands_issued"]["preventive"] > 0
    assert first["assumptions"]["preventive_intervals_h"] == {"tool_wear": 6.0}
    other = pilot(tmp_path / "c", "--seeds", "3", "--arms", "run_to_failure", "--no-shadow", "--no-train")
    assert other["arms"]["run_to_failure"]["plant"]["per_seed"][0]["good_parts"] != \
        first["arms"]["run_to_failure"]["plant"]["per_seed"][0]["good_parts"]


def test_predictive_arm_runs_through_the_scoring_core(tmp_path: Path) -> None:
    from pipelines.testing.toymodel import publish_toy_champions

    publish_toy_champions(tmp_path / "registry")
    report = pilot(tmp_path / "out", "--seeds", "1", "--arms", "run_to_failure,predictive", "--no-train",
                   "--registry", str(tmp_path / "registry"))
    assert report["predictive_source"].startswith("in-process scoring core")
    assert set(report["models"]) == {"cnc", "robot"} and all(m["version"] for m in report["models"].values())
    for mode, q in report["alert_quality"]["modes"].items():
        assert q["no_skill"]["alerts"] == pytest.approx(q["model"]["alerts"]), mode  # the same alert rate
        assert q["rule"]["failures"] == q["model"]["failures"]                       # the same runs
    assert {t["baseline"] for t in report["targets"]} == {"run_to_failure"}


def test_a_seed_that_trained_the_champion_is_refused() -> None:
    from contracts.errors import ConfigError
    from services.pilot.sources import refuse_training_seeds

    models = {"cnc": {"version": "cnc-1", "training_seeds": [10_000]}, "robot": {"version": "r",
                                                                                 "training_seeds": None}}
    refuse_training_seeds([1, 2, 3], models)
    with pytest.raises(ConfigError, match=r"pilot seed\(s\) \[10000\] trained the cnc champion cnc-1"):
        refuse_training_seeds([3, 10_000], models)


@pytest.mark.parametrize("args, message", [
    (["--seeds", "one,two"], "--seeds takes integers"),
    (["--arms", "magic"], "arms"),
    (["--days", "-3"], "days"),
])
def test_bad_options_get_a_clear_error(tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["pilot", "--out", str(tmp_path), *args])
    assert result.exit_code != 0
    assert message in (result.output + str(result.exception))
    assert not (tmp_path / "latest.json").exists()


def test_training_history_is_in_the_documented_table_format() -> None:
    from datetime import datetime

    from contracts.plant import load_plant
    from services.pilot.line import simulator_line
    from services.pilot.model import simulate_history

    plant = load_plant(Path(__file__).resolve().parents[2] / "simulators" / "plants" / "demo.yaml")
    tel, events = simulate_history(plant, simulator_line, 10_000, datetime(2026, 1, 1, tzinfo=UTC), 0.25)
    assert {"machine_id", "ts", "state", "spindle_vibration_rms_mm_s"} <= set(tel.columns)
    assert tel.groupby("machine_id")["ts"].is_monotonic_increasing.all()
    assert len(tel) == 10 * 6 * 60 and str(tel["ts"].dt.tz) == "UTC"
    assert "part_completed" in set(events["kind"]) and events["ts"].is_monotonic_increasing
