"""Fleet protocol: split by unit, per-unit RUL at cut points beside baselines, refit on all units."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from byod_support import fleet

from pipelines.features import with_ts
from pipelines.predict import PredictOptions, predict_frames
from pipelines.training.config import TrainConfig
from pipelines.training.fleet import inner_split, unit_folds, warnings_for
from pipelines.training.importer import events_from_failure_rows
from pipelines.training.train import TrainResult, train


@pytest.fixture(scope="module")
def trained() -> tuple[TrainResult, pd.DataFrame]:
    tel = with_ts(fleet())
    ev = events_from_failure_rows(tel)
    cfg = TrainConfig(horizon_hours=10, rul_cap_hours=40, trials=1, max_rounds=60, min_failures=2,
                      condition_columns=("setting1",))
    return train(tel.drop(columns=["failure_mode"]), ev, cfg, "engine"), tel


def test_small_fleet_uses_grouped_folds_and_refits_on_every_unit(trained: tuple[TrainResult, pd.DataFrame]) -> None:
    result, tel = trained
    m = result.metrics
    assert m["protocol"] == "units" and m["folds"] == 5 and m["held_out_units"] == 14 and m["rul_unit"] == "cycles"
    assert sorted(result.data_range["machines"]) == sorted(tel["machine_id"].unique())
    assert sorted(result.data_range["held_out_machines"]) == sorted(tel["machine_id"].unique())  # each once
    assert result.bundle.feature_spec.conditions is not None and result.bundle.feature_spec.conditions.n_conditions == 2
    assert "setting1" not in result.bundle.feature_spec.signals


def test_rul_per_unit_beats_the_constant_baseline(trained: tuple[TrainResult, pd.DataFrame]) -> None:
    rul = trained[0].metrics["rul"]
    assert rul["model"]["n"] == 14 * 5
    assert set(rul) >= {"model", "plain_lightgbm", "constant", "linear_cycle"}
    assert rul["model"]["rmse"] < rul["constant"]["rmse"]
    assert trained[0].metrics["score"] == -rul["model"]["rmse"]  # selection by the task's own metric


def test_classification_report_and_warnings(trained: tuple[TrainResult, pd.DataFrame]) -> None:
    m = trained[0].metrics["modes"]["wear_out"]
    for who in ("model", "plain_lightgbm"):
        assert {"f1", "precision", "recall", "pr_auc", "best_f1", "best_threshold"} <= set(m[who])
        assert m[who]["best_f1"] >= m[who]["f1"] - 1e-9  # the best threshold is at least as good
    assert warnings_for(4, {"x": 3}) == [
        "only 4 held-out units (< 10): the figures below are noisy; add units",
        "mode x: only 3 positive rows held out (< 20): its F1/PR-AUC mean little"]


def test_predict_last_gives_rul_in_cycles(trained: tuple[TrainResult, pd.DataFrame]) -> None:
    result, tel = trained
    cut = tel[tel.groupby("machine_id").cumcount(ascending=False) >= 15]
    out = list(predict_frames([(1, cut.drop(columns=["failure_mode"]))], lambda m: result.bundle,
                              PredictOptions(at="last", explain=False)))[-1]
    assert len(out) == 14 and (out["rul_unit"] == "cycles").all()
    err = np.sqrt(np.mean((out["rul"] - 15) ** 2))
    assert err < 10  # true RUL is 15 cycles for every unit


def test_folds_are_deterministic_and_disjoint() -> None:
    units = [f"u{i}" for i in range(60)]
    assert unit_folds(units, 0.2, 0) == unit_folds(units, 0.2, 0) and len(unit_folds(units, 0.2, 0)[0]) == 12
    small = unit_folds(units[:12], 0.2, 0)
    assert len(small) == 5 and sorted(u for f in small for u in f) == sorted(units[:12])
    fit, val, cal = inner_split(units, 0)
    assert not (fit & val) and not (fit & cal) and not (val & cal) and len(fit | val | cal) == 60
