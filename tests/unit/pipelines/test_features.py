"""Feature pipeline: no look-ahead, buffer == history, hand-checked values, counters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from contracts.errors import ContractError
from pipelines.features import FeatureSpec, compute, feature_names, window_features
from pipelines.features.counters import counter_names
from pipelines.training.synthetic import synthetic_history

SPEC = FeatureSpec(windows=(5, 20), step=7, baseline_rows=30, condition_signal="spindle_speed_rpm",
                   components=("tool_wear",))


@pytest.fixture(scope="module")
def history() -> tuple[pd.DataFrame, pd.DataFrame]:
    return synthetic_history(n_machines=2, days=1.5, seed=3)


def _feature_block(frame: pd.DataFrame) -> np.ndarray:
    return frame.drop(columns=["machine_id", "ts", "state"]).to_numpy(dtype=float)


def test_no_feature_uses_a_future_row(history: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    tel, ev = history
    cut = tel["ts"].iloc[len(tel) // 4]
    before = compute(tel, SPEC, ev)
    future = tel["ts"] > cut
    rng = np.random.default_rng(0)
    changed = tel.copy()
    sigs = ["spindle_power_kw", "spindle_vibration_rms_mm_s", "spindle_speed_rpm", "coolant_pressure_bar"]
    changed.loc[future, sigs] = rng.normal(1000, 500, size=(int(future.sum()), len(sigs)))
    changed.loc[future, "state"] = "idle"
    extra = pd.DataFrame([{"event_id": "x", "machine_id": "line-1/cnc-01", "ts": cut + pd.Timedelta(minutes=1),
                           "kind": "maintenance_done", "component": "tool_wear"}])
    after = compute(changed, SPEC, pd.concat([ev, extra], ignore_index=True))
    keep = before["ts"] <= cut
    assert keep.sum() > 50 and (~keep).sum() > 50
    a, b = _feature_block(before[keep]), _feature_block(after[after["ts"] <= cut])
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True)
    # and the check has teeth: rows after the cut did change
    assert not np.allclose(_feature_block(before[~keep]), _feature_block(after[after["ts"] > cut]), equal_nan=True)


def test_streaming_buffer_gives_the_training_row(history: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    tel, ev = history
    full = compute(tel, SPEC, ev)
    one = tel[tel["machine_id"] == "line-1/cnc-02"].reset_index(drop=True)
    row = full[full["machine_id"] == "line-1/cnc-02"].iloc[40]
    end = int(one.index[one["ts"] == row["ts"]][0])
    buffer = one.iloc[end + 1 - SPEC.max_window:end + 1]
    live = compute(buffer, SPEC, ev, last_only=True)
    assert len(live) == 1 and live["ts"].iloc[0] == row["ts"]
    np.testing.assert_allclose(_feature_block(live)[0], row.drop(["machine_id", "ts", "state"]).to_numpy(float),
                               rtol=1e-9, atol=1e-9, equal_nan=True)


def test_hand_checked_values() -> None:
    ts = pd.date_range("2026-01-01", periods=40, freq="30min", tz="UTC")
    tel = pd.DataFrame({"machine_id": "l/m", "ts": ts, "x_c": 2.0 * np.arange(40) * 0.5, "load_kw": 4.0})
    spec = FeatureSpec(windows=(4,), step=1, baseline_rows=10, condition_signal="load_kw",
                       stats=("mean", "min", "max", "slope"))
    f = compute(tel, spec).set_index("ts")
    last = f.iloc[-1]
    assert last["x_c__last"] == pytest.approx(39.0)
    assert last["x_c__mean_4"] == pytest.approx(np.mean([36, 37, 38, 39]))
    assert (last["x_c__min_4"], last["x_c__max_4"]) == (36.0, 39.0)
    assert last["x_c__slope_4"] == pytest.approx(2.0)  # one unit per half hour = 2 per hour
    assert last["x_c__norm_4"] == pytest.approx(37.5 / 4.0)
    # baseline: rows 26..35 (10 rows ending where the 4-row window starts)
    base = np.arange(26, 36, dtype=float)
    assert last["x_c__z_4"] == pytest.approx((37.5 - base.mean()) / base.std(ddof=1), rel=1e-6)
    assert list(f.columns[2:]) == feature_names(spec, ["x_c", "load_kw"])


def test_non_running_samples_are_ignored() -> None:
    ts = pd.date_range("2026-01-01", periods=6, freq="1min", tz="UTC")
    tel = pd.DataFrame({"machine_id": "l/m", "ts": ts, "state": ["running"] * 3 + ["idle"] * 3,
                        "p_kw": [1.0, 1.0, 1.0, 50.0, 50.0, 50.0]})
    f = compute(tel, FeatureSpec(windows=(6,), step=6, baseline_rows=2, stats=("mean", "max")))
    assert f["p_kw__mean_6"].iloc[0] == pytest.approx(1.0) and f["p_kw__max_6"].iloc[0] == 1.0


def test_counters_since_maintenance() -> None:
    ts = pd.date_range("2026-01-01", periods=10, freq="1h", tz="UTC")
    tel = pd.DataFrame({"machine_id": "l/m", "ts": ts, "p_kw": 1.0})
    ev = pd.DataFrame({"machine_id": "l/m", "kind": ["maintenance_done", "part_completed", "part_completed",
                                                     "failure", "maintenance_done"],
                       "ts": [ts[1], ts[2], ts[3], ts[5], ts[6]], "component": ["tool", None, None, "tool", "spindle"]})
    spec = FeatureSpec(windows=(2,), step=1, baseline_rows=2, components=("tool",))
    f = compute(tel, spec, ev)
    assert np.isnan(f["hours_since_maintenance"].iloc[0])
    assert f["hours_since_maintenance"].tolist()[1:] == [0, 1, 2, 3, 4, 0, 1, 2, 3]
    assert f["parts_since_maintenance"].tolist()[1:6] == [0, 1, 2, 2, 2]
    assert f["hours_since_failure"].iloc[7] == 2
    assert f["hours_since_maintenance__tool"].iloc[9] == 8


def test_cycle_counted_data_and_clear_errors() -> None:
    tel = pd.DataFrame({"machine_id": "u1", "cycle": range(1, 31), "s1": np.linspace(0, 1, 30)})
    f = compute(tel, FeatureSpec(windows=(3,), step=10, baseline_rows=5))
    assert len(f) == 3 and f["ts"].dt.tz is not None
    with pytest.raises(ContractError, match="machine_id"):
        compute(tel.drop(columns="machine_id"), FeatureSpec())
    with pytest.raises(ContractError, match="'ts' or a 'cycle'"):
        compute(tel.drop(columns="cycle"), FeatureSpec())


# ---------- one definition: the kernel, the training path and the streaming path agree

def _reference_row(x: np.ndarray, ts_h: np.ndarray, spec: FeatureSpec, sigs: list[str]) -> dict[str, float]:
    """Features of the last row of ``x`` (samples x signals) written out directly with
    numpy on each slice: an independent oracle for ``window_features``."""
    out: dict[str, float] = {}
    n = len(x)
    base = x[max(0, n - spec.longest - spec.baseline_rows):max(0, n - spec.longest)]
    for i, s in enumerate(sigs):
        out[f"{s}__last"] = x[-1, i]
        b = base[:, i][~np.isnan(base[:, i])] if len(base) else np.array([])
        ok_b = len(b) >= max(2, spec.baseline_rows // 4)
        bm, bs = (b.mean(), b.std(ddof=1)) if ok_b else (np.nan, np.nan)
        for w in spec.windows:
            v, t = x[-w:, i], ts_h[-w:]
            keep = ~np.isnan(v)
            v, t = v[keep], t[keep]
            ok = len(v) >= max(2, w // 2)
            vals = {"mean": v.mean(), "std": v.std(ddof=1), "min": v.min(), "max": v.max(),
                    "slope": np.polyfit(t - t.mean(), v, 1)[0] if np.ptp(t) > 0 else np.nan} if ok else {}
            for stat in spec.stats:
                out[f"{s}__{stat}_{w}"] = vals.get(stat, np.nan)
            out[f"{s}__z_{w}"] = (vals["mean"] - bm) / (bs + 1e-9) if ok else np.nan
            if spec.condition_signal and s != spec.condition_signal:
                c = x[-w:, sigs.index(spec.condition_signal)]
                c = c[~np.isnan(c)]
                cm = c.mean() if len(c) >= max(2, w // 2) else np.nan
                out[f"{s}__norm_{w}"] = vals["mean"] / (abs(cm) + 1e-9) if ok else np.nan
    return out


def test_every_window_feature_matches_a_direct_computation(history: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    tel, _ = history
    one = tel[tel["machine_id"] == "line-1/cnc-01"].reset_index(drop=True)
    spec = SPEC.model_copy(update={"step": 1, "components": ()})
    full = compute(one, spec)
    sigs = [c.split("__")[0] for c in full.columns if c.endswith("__last")]
    x = one[sigs].to_numpy(float).copy()
    x[one["state"].fillna("running").to_numpy() != "running"] = np.nan
    hours = (one["ts"] - one["ts"].iloc[0]).dt.total_seconds().to_numpy() / 3600
    names = [n for n in feature_names(spec, sigs) if n not in counter_names(())]  # counters: own tests
    checked = 0
    for end in (3, 12, 29, 60, 200, 401, len(one) - 1):  # short histories (NaN rules) and full ones
        ref = _reference_row(x[:end + 1], hours[:end + 1], spec, sigs)
        got = full.iloc[end]
        for name in names:
            np.testing.assert_allclose(got[name], ref[name], rtol=1e-9, atol=1e-9, equal_nan=True, err_msg=name)
            checked += not np.isnan(ref[name])
    assert checked > 5 * len(names)  # most features were real numbers, not NaN on both sides


def test_blocks_without_gaps_take_the_unmasked_path_with_the_same_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows with no missing value skip the masks (``_stats_full``); the result is the masked
    arithmetic's, bit for bit, whether a batch is all such rows, none, or a mix."""
    from pipelines.features import windows

    spec = FeatureSpec(windows=(5, 20), baseline_rows=30, signals=("a_c", "b_kw", "c_mm_s"))
    rng = np.random.default_rng(5)
    rows, length = 12, spec.max_window
    values = rng.normal(40.0, 3.0, size=(rows, 3, length)) * np.array([1.0, 250.0, 0.01])[None, :, None]
    ts = 1_767_000_000 * 10**9 + np.cumsum(rng.integers(30, 90, size=(rows, length)), axis=1) * 10**9
    gaps = values.copy()
    gaps[2, 1, -3] = np.nan  # a dropout inside the shortest window
    gaps[7, :, :10] = np.nan  # padding at the start of the baseline
    gaps[9, 0, :] = np.nan  # a signal with no value at all
    blocks = (values, gaps, gaps[[2, 7, 9]])
    got = [window_features(b, ts[:len(b)], spec, list(spec.signals)) for b in blocks]
    monkeypatch.setattr(windows, "_stats_full", windows._stats_masked)  # noqa: SLF001 - masks for every row
    want = [window_features(b, ts[:len(b)], spec, list(spec.signals)) for b in blocks]
    for g, w in zip(got, want, strict=True):
        assert np.array_equal(g, w, equal_nan=True)
        assert np.isfinite(g).sum() > 0.8 * g.size  # real numbers, not NaN on both sides
