"""Model bundle round trip and registry rules: champion / challenger promotion, hashes, drift."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contracts.messages import Factor
from pipelines.features import compute
from pipelines.models import ModelBundle, Registry, RegistryError, band, psi
from pipelines.models.drift import reference
from pipelines.training.config import TrainConfig
from pipelines.training.synthetic import synthetic_history
from pipelines.training.train import TrainResult, train


@pytest.fixture(scope="module")
def history() -> tuple[pd.DataFrame, pd.DataFrame]:
    return synthetic_history(n_machines=3, days=8, seed=5)


@pytest.fixture(scope="module")
def trained(history: tuple[pd.DataFrame, pd.DataFrame]) -> TrainResult:
    cfg = TrainConfig.quick(horizon_hours=12, rul_cap_hours=48, max_rounds=40, min_failures=2)
    return train(*history, cfg, "cnc")


@pytest.fixture(scope="module")
def feats(trained: TrainResult, history: tuple[pd.DataFrame, pd.DataFrame]) -> pd.DataFrame:
    return compute(*history[:1], trained.bundle.feature_spec, history[1]).tail(400)


def test_bundle_round_trip_predicts_the_same(trained: TrainResult, feats: pd.DataFrame, tmp_path: Path) -> None:
    b = trained.bundle
    b.save(tmp_path / "b")
    again = ModelBundle.load(tmp_path / "b", "v1")
    pd.testing.assert_frame_equal(b.predict(feats), again.predict(feats))
    out = again.predict(feats)
    for m in b.modes:
        assert out[f"p_{m}"].between(0, 1).all()
    assert (out["rul_low_hours"] <= out["rul_hours"]).all() and (out["rul_hours"] <= out["rul_high_hours"]).all()
    assert len(out) == len(feats) and out["anomaly_score"].notna().all()


def test_explain_gives_factors_with_normal_ranges(trained: TrainResult, feats: pd.DataFrame) -> None:
    b = trained.bundle
    # rows the model flags most strongly should be explained by positive contributions
    probs = b.predict(feats)[[f"p_{m}" for m in b.modes]].max(axis=1)
    top = feats.loc[probs.sort_values(ascending=False).index[:5]]
    factors = b.explain(top, top_k=3)
    assert len(factors) == 5 and all(1 <= len(f) <= 3 for f in factors)
    f0 = factors[0][0]
    assert isinstance(f0, Factor) and f0.contribution > 0 and f0.feature in b.features
    assert f0.normal_low is not None and f0.normal_low <= f0.normal_high


def _metrics(holdout: str, score: float) -> dict:
    return {"holdout_id": holdout, "score": score}


def test_promotion_rules(trained: TrainResult, tmp_path: Path) -> None:
    reg = Registry(tmp_path / "reg")
    assert reg.champion("cnc") is None
    v1 = reg.register(trained.bundle, _metrics("h1", 0.60), {"start": "a", "end": "b"})
    assert reg.promote(v1).promoted  # first model: no champion to beat
    assert reg.champion("cnc").version == v1
    trained.bundle.params["tag"] = "two"  # a different bundle -> a different hash and version
    v2 = reg.register(trained.bundle, _metrics("h2", 0.90), {"start": "a", "end": "c"})
    d = reg.promote(v2)
    assert not d.promoted and "same holdout" in d.reason  # better score, but on another holdout
    reg.record_evaluation(v1, _metrics("h2", 0.95))
    d = reg.promote(v2)
    assert not d.promoted and "does not beat" in d.reason
    reg.record_evaluation(v1, _metrics("h2", 0.80))
    d = reg.promote(v2)
    assert d.promoted and d.previous == v1 and reg.champion("cnc").version == v2
    assert [m["status"] for m in reg.list("cnc")] == ["retired", "champion"]
    forced = reg.promote(v1, force=True)
    assert forced.promoted and "forced" in forced.reason
    log = json.loads((tmp_path / "reg" / "index.json").read_text())["log"]
    assert [e["version"] for e in log] == [v1, v2, v1]


def test_champion_is_cached_and_tampering_is_refused(trained: TrainResult, tmp_path: Path) -> None:
    reg = Registry(tmp_path / "reg")
    v = reg.register(trained.bundle, _metrics("h", 0.5), {})
    reg.promote(v)
    assert reg.champion("cnc") is reg.champion("cnc")  # no reload while the champion is unchanged
    meta = reg.show(v)
    assert meta["hash"] and meta["features"] == trained.bundle.features and "h" in meta["evaluations"]
    model = next((tmp_path / "reg" / "versions" / v).glob("clf_*.txt"))
    model.write_text(model.read_text().replace("tree", "tree ", 1))
    with pytest.raises(RegistryError, match="content hash"):
        Registry(tmp_path / "reg").champion("cnc")
    with pytest.raises(RegistryError, match="unknown model version"):
        reg.show("cnc-nope")


def test_psi_flags_a_shift_only_when_there_is_one() -> None:
    rng = np.random.default_rng(0)
    ref = reference(rng.normal(0, 1, 5000))
    same = psi(ref, rng.normal(0, 1, 2000))
    moved = psi(ref, rng.normal(1.0, 1, 2000))
    assert same < 0.05 and band(same) == "stable"
    assert moved > 0.25 and band(moved) == "shifted"
