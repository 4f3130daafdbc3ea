"""Operating-condition normalisation: regimes found from settings, signals z-scored per regime."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.features import FeatureSpec, compute
from pipelines.features.conditions import apply, assign, fit


def _regimes(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    regime = rng.integers(0, 3, n)
    setting = np.array([0.0, 10.0, 20.0])[regime] + rng.normal(0, 0.05, n)
    level = np.array([100.0, 300.0, 500.0])[regime]
    return pd.DataFrame({"machine_id": "u1", "cycle": np.arange(n) + 1, "setting1": setting,
                         "s1": level + rng.normal(0, 1.0, n), "s_const": 7.0, "program": regime.astype(str)})


def test_clusters_found_and_levels_removed() -> None:
    frame = _regimes()
    norm = fit(frame, ["s1", "s_const"], ["setting1"])
    assert norm.n_conditions == 3
    out = apply(frame, norm)
    assert abs(out["s1"].mean()) < 0.1 and 0.9 < out["s1"].std() < 1.1  # the 100/300/500 jumps are gone
    assert (out["s_const"] == 0).all()  # constant within each condition: 0, not a division by zero
    same = pd.crosstab(assign(frame, norm), frame["program"])
    assert ((same > 0).sum(axis=1) == 1).all()  # each cluster is exactly one true regime


def test_one_regime_is_one_condition() -> None:
    frame = _regimes().assign(setting1=lambda f: np.random.default_rng(1).normal(0, 1, len(f)))
    assert fit(frame, ["s1"], ["setting1"]).n_conditions == 1


def test_categorical_condition_and_unseen_value() -> None:
    frame = _regimes()
    norm = fit(frame, ["s1"], ["program"], categorical=True)
    new = frame.head(5).assign(program=["0", "1", "2", "9", None])
    z = apply(new, norm)["s1"].to_numpy()
    assert np.isfinite(z[:3]).all() and np.isnan(z[3:]).all()  # an unseen program: missing, not an error


def test_spec_with_conditions_round_trips_and_features_use_it() -> None:
    frame = _regimes()
    norm = fit(frame, ["s1"], ["setting1"])
    spec = FeatureSpec(windows=(5,), baseline_rows=10, step=1, signals=("s1",), conditions=norm)
    again = FeatureSpec(**spec.model_dump(mode="json"))
    assert again == spec
    feats = compute(frame.drop(columns=["program"]), again)
    assert abs(feats["s1__last"].mean()) < 0.1
