"""A mode whose model did not beat a no-skill constant on validation drives neither health nor alerts.

The demo's quick champion once had a spindle-bearing model that gave the same p = 0.47 on every
window; under the planning-lead formula that pinned every CNC in *act*. Training now records per
mode whether the calibrated model beat a constant on its validation slice; the scorer leaves
modes without that skill out of health, alerts and explanations and says so on every score.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from contracts.messages import AlertAction
from contracts.plant import load_plant
from pipelines.features import compute
from pipelines.health import AlertRules, health
from pipelines.models import Calibration, ModelBundle
from pipelines.predict import PredictOptions, score_rows
from pipelines.scoring.engine import ScoringEngine
from pipelines.testing.samplestream import samples
from pipelines.testing.toymodel import toy_bundle
from pipelines.training.config import TrainConfig
from pipelines.training.fitting import validated_skill
from pipelines.training.synthetic import synthetic_history
from pipelines.training.train import train
from runtime.settings import LineWatchSettings

PLANT = load_plant(LineWatchSettings().plant_file)
SKILLED = {"slice": "valid", "rows": 100, "positives": 10, "positive_rate": 0.1, "pr_auc": 0.8, "pr_auc_skill": 0.78,
           "min_skill": 0.05, "skilled": True}
CONSTANT = {"slice": "valid", "rows": 100, "positives": 10, "positive_rate": 0.1, "pr_auc": 0.1, "pr_auc_skill": 0.0,
            "min_skill": 0.05, "skilled": False}


def test_validated_skill_against_a_constant() -> None:
    y = np.array([0] * 90 + [1] * 10, dtype=float)
    constant = validated_skill(y, np.full(100, 0.4677), 0.05)
    assert constant["pr_auc"] == pytest.approx(0.1) and constant["positive_rate"] == 0.1
    assert constant["pr_auc_skill"] == pytest.approx(0.0) and constant["skilled"] is False
    perfect = validated_skill(y, y * 0.9 + 0.05, 0.05)
    assert perfect["pr_auc"] == 1.0 and perfect["pr_auc_skill"] == 1.0 and perfect["skilled"] is True
    # one failure ranked first, the other nine among the rest at random: AP ≈ (1 + 9 · 0.1) / 10
    weak = np.random.default_rng(3).random(100)
    weak[90] = 2.0
    got = validated_skill(y, weak, 0.05)
    assert 0.05 < got["pr_auc_skill"] < 0.3 and got["skilled"] is True
    assert validated_skill(y, weak, 0.5)["skilled"] is False  # the bar is the caller's
    none = validated_skill(np.zeros(50), np.linspace(0, 1, 50), 0.05)  # no failure to judge on
    assert none["pr_auc"] is None and none["skilled"] is None and none["positives"] == 0


def test_training_records_each_modes_skill_in_the_bundle_and_its_metrics(tmp_path: Path) -> None:
    history = synthetic_history(n_machines=3, days=8, seed=5)
    result = train(*history, TrainConfig.quick(horizon_hours=12, rul_cap_hours=48, max_rounds=40, min_failures=2),
                   "cnc")
    bundle = result.bundle
    assert set(bundle.skill) == set(bundle.modes) and result.metrics["skill"] == bundle.skill
    for mode, s in bundle.skill.items():
        assert s["slice"] in ("valid", "valid+calib") and s["min_skill"] == 0.05, mode
        assert s["skilled"] == (None if s["pr_auc_skill"] is None else s["pr_auc_skill"] >= 0.05)
    bundle.save(tmp_path / "b")
    again = ModelBundle.load(tmp_path / "b", "v1")
    assert again.skill == bundle.skill and again.no_skill_modes == bundle.no_skill_modes


def _unskilled_bearing(tmp_path: Path) -> ModelBundle:
    """The toy CNC bundle with the failure seen in the demo: a bearing model stuck at p = 0.4677."""
    b = toy_bundle("cnc", version="cnc-noskill")
    cals = dict(b.calibrations) | {"spindle_bearing": Calibration([0.0, 1.0], [0.4677, 0.4677])}
    skill = {m: dict(SKILLED) for m in b.modes} | {"spindle_bearing": dict(CONSTANT)}
    return replace(b, calibrations=cals, skill=skill, thresholds=dict(b.thresholds) | {"spindle_bearing": 0.3})


def test_a_bundle_names_its_unskilled_modes_and_logs_them_at_load(tmp_path: Path,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    b = _unskilled_bearing(tmp_path)
    assert b.no_skill_modes == ["spindle_bearing"] and "spindle_bearing" not in b.scored_modes
    assert b.skill_reason("spindle_bearing") == ("no validated skill: valid PR-AUC 0.100 vs positive rate 0.100 "
                                                 "(skill 0.000 < 0.05)")
    b.save(tmp_path / "b")
    with caplog.at_level(logging.WARNING, logger="pipelines.models.bundle"):
        ModelBundle.load(tmp_path / "b", "cnc-noskill")
    assert any("spindle_bearing left out of health and alerts: no validated skill" in r.getMessage()
               for r in caplog.records)
    legacy = replace(b, skill={})  # trained before skill was recorded: every mode counts
    assert legacy.no_skill_modes == [] and legacy.scored_modes == legacy.modes
    unjudged = replace(b, skill=b.skill | {"spindle_bearing": validated_skill(np.zeros(9), np.zeros(9), 0.05)})
    assert unjudged.no_skill_modes == [] and unjudged.unvalidated_modes == ["spindle_bearing"]
    assert unjudged.skill_reason("spindle_bearing") == "not validated: no failure to judge on in the valid slice"


def test_the_scorer_leaves_an_unskilled_mode_out_of_health_and_alerts(tmp_path: Path) -> None:
    unskilled = _unskilled_bearing(tmp_path)
    bundles = {"cnc": unskilled, "robot": toy_bundle("robot")}
    engine = ScoringEngine(PLANT, bundles, AlertRules(raise_after=2, clear_after=2))
    for s in samples(PLANT, 200, seed=3):
        engine.ingest(s, 0)
    out = engine.score_pending()
    cnc = [s for s in out.scores if s.machine_id.startswith("line-1/cnc")]
    assert cnc
    for s in cnc:
        assert s.no_skill_modes == ["spindle_bearing"]
        assert "spindle_bearing" not in s.failure_probability and "spindle_bearing" not in s.component_health
        assert "spindle_bearing" not in s.mode_lead_hours and s.rul_mode != "spindle_bearing"
        assert s.health == health(s.failure_probability, s.rul_hours, s.horizon_hours, s.mode_horizon_hours,
                                  s.mode_lead_hours, s.rul_mode)
    assert not [a for a in out.alerts if a.mode == "spindle_bearing"]
    # the same stuck model, were it counted: p = 0.4677 over 24 h with a 48-h lead is health 2.3, and it alerts
    counted = ScoringEngine(PLANT, {"cnc": replace(unskilled, skill={}), "robot": toy_bundle("robot")},
                            AlertRules(raise_after=2, clear_after=2))
    for s in samples(PLANT, 200, seed=3):
        counted.ingest(s, 0)
    pinned = counted.score_pending()
    assert max(s.health for s in pinned.scores if s.machine_id.startswith("line-1/cnc")) <= 2.3
    assert [a for a in pinned.alerts if a.mode == "spindle_bearing" and a.action is AlertAction.RAISED]


def test_batch_predict_never_alarms_on_an_unskilled_mode(tmp_path: Path) -> None:
    b = _unskilled_bearing(tmp_path)
    tel, events = synthetic_history(n_machines=1, days=2, seed=3)
    feats = compute(tel, b.feature_spec, events).tail(50).reset_index(drop=True)
    out = score_rows(b, feats, PredictOptions(explain=True), cycles=False)
    assert np.allclose(out["p_spindle_bearing"], 0.4677) and not out["alarm_spindle_bearing"].any()
    counted = score_rows(replace(b, skill={}), feats, PredictOptions(explain=False), cycles=False)
    assert counted["alarm_spindle_bearing"].all()
    assert (out["health"] >= counted["health"]).all() and (counted["health"] <= 2.3).all()
