"""Holdout metrics: PR-AUC, F1 at the operating threshold, false alarms per machine-week,
warning lead time, RUL RMSE and PHM08 score, and the fixed-threshold rule baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

from pipelines.training.fitting import pr_auc

WEEK_H = 168.0


def fit_rule(features: pd.DataFrame, healthy: np.ndarray, window: int, q: float = 0.995) -> dict[str, list[float]]:
    """Fixed limits per signal (short-window mean outside its healthy 0.5–99.5 % range),
    the classic condition-monitoring alarm a plant would configure by hand."""
    cols = [c for c in features.columns if c.endswith(f"__mean_{window}")]
    sub = features.loc[healthy, cols]
    lo, hi = sub.quantile(1 - q), sub.quantile(q)
    return {c: [float(lo[c]), float(hi[c])] for c in cols if np.isfinite(lo[c]) and hi[c] > lo[c]}


def rule_score(features: pd.DataFrame, limits: dict[str, list[float]]) -> np.ndarray:
    """Largest exceedance of any limit, in units of the normal span; > 0 means alarm."""
    if not limits:
        return np.full(len(features), -1.0)
    cols = list(limits)
    x = features.reindex(columns=cols).to_numpy(dtype=float)
    lo = np.array([limits[c][0] for c in cols])
    hi = np.array([limits[c][1] for c in cols])
    span = hi - lo
    ex = np.maximum((x - hi) / span, (lo - x) / span)
    excess: np.ndarray = np.nan_to_num(np.nanmax(np.where(np.isfinite(ex), ex, -1.0), axis=1), nan=-1.0)
    return excess


def _alarm_starts(machine: np.ndarray, alarm: np.ndarray) -> np.ndarray:
    prev = np.concatenate([[False], alarm[:-1]])
    new_machine = np.concatenate([[True], machine[1:] != machine[:-1]])
    starts: np.ndarray = alarm & (~prev | new_machine)
    return starts


def mode_metrics(rows: pd.DataFrame, y: np.ndarray, score: np.ndarray, threshold: float,
                 fails: pd.DataFrame, horizon_h: float) -> dict[str, float | list[float]]:
    """Metrics of one mode on one holdout; ``rows`` holds machine_id and ts, sorted by them."""
    known = np.isfinite(y)
    alarm = score >= threshold
    out: dict[str, float | list[float]] = {"rows": int(known.sum()), "positives": int(np.nansum(y)),
           "pr_auc": pr_auc(y[known], score[known]),
           "f1": float(f1_score(y[known], alarm[known], zero_division=0)) if known.any() else float("nan")}
    starts = _alarm_starts(rows["machine_id"].to_numpy(), alarm)
    false_starts = starts & (np.nan_to_num(y, nan=1.0) == 0)
    span_h = rows.groupby("machine_id")["ts"].agg(lambda s: (s.max() - s.min()).total_seconds() / 3600).sum()
    out["false_alarms_per_machine_week"] = float(false_starts.sum() / max(span_h / WEEK_H, 1e-9))
    out.update(_lead_times(rows, alarm, fails, horizon_h))
    return out


def _lead_times(rows: pd.DataFrame, alarm: np.ndarray, fails: pd.DataFrame,
                horizon_h: float) -> dict[str, float | list[float]]:
    """Earliest alarm within the horizon before each failure in the holdout."""
    h = pd.Timedelta(hours=horizon_h)
    leads, n = [], 0
    for machine, g in rows.assign(alarm=alarm).groupby("machine_id", sort=False):
        lo, hi = g["ts"].min(), g["ts"].max()
        for t in fails.loc[(fails["machine_id"] == machine) & (fails["ts"] > lo) & (fails["ts"] <= hi + h), "ts"]:
            n += 1
            win = g[(g["ts"] >= t - h) & (g["ts"] < t) & g["alarm"]]
            if len(win):
                leads.append((t - win["ts"].min()).total_seconds() / 3600)
    return {"failures": n, "detected": len(leads), "event_recall": len(leads) / n if n else float("nan"),
            "median_lead_hours": float(np.median(leads)) if leads else float("nan"), "lead_hours": leads}


def rul_metrics(true: np.ndarray, pred: np.ndarray, cap: float) -> dict[str, float]:
    """RMSE over rows with a known RUL, and the PHM08 score (Saxena et al. 2008) on rows
    with a failure inside the cap: d = predicted − true, late predictions cost more."""
    ok = np.isfinite(true) & np.isfinite(pred)
    if not ok.any():
        return {"rmse_hours": float("nan"), "phm08_mean": float("nan"), "rows": 0}
    d = pred[ok] - true[ok]
    near = true[ok] < cap
    dn = d[near]
    phm = np.where(dn < 0, np.exp(-dn / 13.0) - 1, np.exp(dn / 10.0) - 1)
    return {"rmse_hours": float(np.sqrt(np.mean(d ** 2))), "rmse_near_failure_hours":
            float(np.sqrt(np.mean(dn ** 2))) if len(dn) else float("nan"),
            "phm08_mean": float(np.mean(np.minimum(phm, 1e6))) if len(dn) else float("nan"),
            "phm08_sum": float(np.sum(np.minimum(phm, 1e6))), "rows": int(ok.sum())}
