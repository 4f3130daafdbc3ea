"""Evaluate a bundle on the held-out future and the held-out machines, beside the rule baseline."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pipelines.models.bundle import ModelBundle
from pipelines.training.config import TrainConfig
from pipelines.training.evaluation import fit_rule, mode_metrics, rul_metrics, rule_score
from pipelines.training.fitting import pr_auc

if TYPE_CHECKING:
    from pipelines.training.train import Prepared

HOLDOUTS = ("future", "machines")


def _holdout_metrics(frame: pd.DataFrame, bundle: ModelBundle, p: Prepared, rule_thr: float) -> dict[str, Any]:
    out: dict[str, Any] = {"modes": {}, "baseline": {}, "rows": int(len(frame)),
                           "machines": int(frame["machine_id"].nunique())}
    if frame.empty:
        return out
    for m in bundle.modes:
        y = frame[f"y_{m}"].to_numpy(dtype=float)
        fails = p.fails[p.fails["mode"] == m]
        out["modes"][m] = mode_metrics(frame, y, frame[f"p_{m}"].to_numpy(), bundle.thresholds[m], fails,
                                       bundle.horizon(m))
        out["baseline"][m] = mode_metrics(frame, y, frame["rule_score"].to_numpy(), rule_thr, fails,
                                          bundle.horizon(m))
    out["rul"] = rul_metrics(frame["rul_true"].to_numpy(dtype=float), frame["rul_hours"].to_numpy(dtype=float),
                             bundle.rul_cap_hours)
    yd = frame["y_defect"].to_numpy(dtype=float)
    ok = np.isfinite(yd) & np.isfinite(frame["defect_risk"].to_numpy(dtype=float))
    out["defect"] = {"pr_auc": pr_auc(yd[ok], frame["defect_risk"].to_numpy()[ok]), "rows": int(ok.sum()),
                     "positives": int(np.nansum(yd[ok]))}
    return out


def evaluate_frame(bundle: ModelBundle, p: Prepared, cfg: TrainConfig) -> tuple[dict[str, Any], pd.DataFrame]:
    """Metrics dict (``holdout_id``, ``score`` = mean future PR-AUC, per holdout and mode) and
    the scored holdout rows (for the HTML report)."""
    ys = p.labels[[f"y_{m}" for m in bundle.modes if f"y_{m}" in p.labels]].to_numpy(dtype=float)
    healthy = p.split.train & (np.nan_to_num(ys, nan=1.0).max(axis=1) == 0)
    limits = fit_rule(p.features, healthy, bundle.feature_spec.shortest)
    mask = p.split.test_time | p.split.test_machines
    feats = p.features.loc[mask]
    frame = pd.concat([feats[["machine_id", "ts"]], bundle.predict(feats)], axis=1)
    frame["holdout"] = np.where(p.split.test_machines[mask], "machines", "future")
    frame["rule_score"] = rule_score(feats, limits)
    for m in bundle.modes:
        frame[f"y_{m}"] = p.labels.loc[mask, f"y_{m}"] if f"y_{m}" in p.labels else np.nan
    frame["rul_true"] = p.labels.loc[mask, "rul_hours"]
    frame["y_defect"] = p.labels.loc[mask, "y_defect"]
    frame = frame.sort_values(["holdout", "machine_id", "ts"], kind="stable")
    metrics: dict[str, Any] = {"holdout_id": p.split.holdout_id(bundle.horizon_hours),
                               "horizon_hours": bundle.horizon_hours, "thresholds": bundle.thresholds,
                               "rule_limits": len(limits)}
    for h in HOLDOUTS:
        metrics[h] = _holdout_metrics(frame[frame["holdout"] == h], bundle, p, 0.0)
    fut = [v["pr_auc"] for v in metrics["future"]["modes"].values() if np.isfinite(v["pr_auc"])]
    metrics["score"] = float(np.mean(fut)) if fut else 0.0
    return metrics, frame


def evaluate_bundle(bundle: ModelBundle, telemetry: pd.DataFrame, events: pd.DataFrame | None,
                    cfg: TrainConfig, feedback: pd.DataFrame | None = None,
                    cut: pd.Timestamp | None = None) -> tuple[dict[str, Any], pd.DataFrame]:
    """Evaluate an existing (e.g. champion) bundle on a history with the same split rules,
    so its metrics share a ``holdout_id`` with a challenger trained on that history."""
    from pipelines.training.train import prepare

    cfg = cfg.model_copy(update={"horizon_hours": bundle.horizon_hours, "rul_cap_hours": bundle.rul_cap_hours,
                                 "mode_horizons_h": dict(getattr(bundle, "mode_horizons_h", {}))})
    p = prepare(telemetry, events, bundle.feature_spec, cfg, feedback, cut, modes=bundle.modes)
    return evaluate_frame(bundle, p, cfg)
