"""LightGBM fitting pieces: early stopping, isotonic calibration, cost-optimal thresholds,
the normal-behaviour baseline, normal ranges and a small budgeted parameter search."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import lightgbm as lgb
import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import average_precision_score

from pipelines.models.bundle import Calibration

BASE_PARAMS: dict[str, Any] = {"learning_rate": 0.05, "num_leaves": 31, "min_data_in_leaf": 40,
                               "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1,
                               "lambda_l2": 1.0, "max_bin": 63, "force_col_wise": True, "verbose": -1}
SEARCH_SPACE: dict[str, list[Any]] = {"learning_rate": [0.03, 0.05, 0.1], "num_leaves": [15, 31, 63],
                                      "min_data_in_leaf": [20, 40, 100], "feature_fraction": [0.6, 0.8, 1.0]}


def categorical(names: list[str]) -> dict[str, Any]:
    """LightGBM ``categorical_feature`` (column positions) for the ``<column>__cat`` features."""
    idx = [i for i, n in enumerate(names) if n.endswith("__cat")]
    return {"categorical_feature": idx} if idx else {}


def param_trials(budget: int, seed: int) -> list[dict[str, Any]]:
    """``budget`` parameter sets: the defaults first, then random draws from SEARCH_SPACE."""
    rng = np.random.default_rng(seed)
    trials = [dict(BASE_PARAMS)]
    while len(trials) < budget:
        trials.append(BASE_PARAMS | {k: v[int(rng.integers(len(v)))] for k, v in SEARCH_SPACE.items()})
    return trials


def fit_booster(x: np.ndarray, y: np.ndarray, xv: np.ndarray, yv: np.ndarray, objective: str,
                params: dict[str, Any], threads: int, max_rounds: int, seed: int = 0,
                **extra: Any) -> lgb.Booster:
    """Train with early stopping on the time-ordered validation slice (on the Dask cluster
    of ``pipelines.training.distributed`` when one is in use)."""
    valid = len(yv) >= 20 and (objective != "binary" or 0 < yv.sum() < len(yv))
    from pipelines.training import distributed

    if distributed.client() is not None:
        return distributed.fit_booster(x, y, xv, yv, objective, params, max_rounds, seed, valid, **extra)
    p = params | {"objective": objective, "num_threads": threads, "seed": seed, "deterministic": True} | extra
    train = lgb.Dataset(x, y, free_raw_data=True)
    callbacks: list[Callable[..., Any]] = [lgb.log_evaluation(0)]
    valid_sets = []
    if valid:
        valid_sets = [lgb.Dataset(xv, yv, reference=train)]
        callbacks.append(lgb.early_stopping(30, verbose=False))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lgb.train(p, train, num_boost_round=max_rounds, valid_sets=valid_sets, callbacks=callbacks)


def pr_auc(y: np.ndarray, score: np.ndarray) -> float:
    """Average precision; NaN when the slice has no positive (or no negative)."""
    if len(y) == 0 or y.min() == y.max():
        return float("nan")
    return float(average_precision_score(y, score))


def validated_skill(y: np.ndarray, p: np.ndarray, min_skill: float, slice_name: str = "valid") -> dict[str, Any]:
    """Did the probabilities ``p`` beat a no-skill constant on held-back rows ``y``?

    PR-AUC skill = (PR-AUC − π) / (1 − π), π the positive rate: a constant (or a ranking no
    better than chance) scores PR-AUC ≈ π, skill ≈ 0; a perfect ranking scores 1. ``skilled`` is
    True when it reaches ``min_skill``, False when it does not, None when the rows hold no failure
    (or only failures): nothing to judge on.
    """
    rows, positives = int(len(y)), int(np.sum(y))
    ap = pr_auc(y, p)
    rate = positives / rows if rows else float("nan")
    score = (ap - rate) / (1.0 - rate) if np.isfinite(ap) and rate < 1 else float("nan")
    return {"slice": slice_name, "rows": rows, "positives": positives,
            "positive_rate": round(rate, 6) if np.isfinite(rate) else None,
            "pr_auc": round(ap, 6) if np.isfinite(ap) else None,
            "pr_auc_skill": round(score, 6) if np.isfinite(score) else None,
            "min_skill": min_skill, "skilled": bool(score >= min_skill) if np.isfinite(score) else None}


def calibrate(raw: np.ndarray, y: np.ndarray) -> Calibration:
    """Isotonic map fitted on a later time slice than the model (identity if it cannot be fitted)."""
    if len(y) < 20 or y.min() == y.max():
        return Calibration([], [])
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, y)
    return Calibration([float(v) for v in iso.X_thresholds_], [float(v) for v in iso.y_thresholds_])


def cost_threshold(p: np.ndarray, y: np.ndarray, cost_missed: float, cost_false: float) -> float:
    """Threshold minimising cost_missed·FN + cost_false·FP on calibrated probabilities.

    Falls back to the Bayes threshold cost_false / (cost_false + cost_missed), which is
    optimal for perfectly calibrated probabilities, when the slice has no positives.
    """
    bayes = cost_false / (cost_false + cost_missed)
    if len(y) == 0 or y.sum() == 0:
        return bayes
    candidates = np.unique(np.concatenate([np.quantile(p, np.linspace(0, 1, 101)), [bayes]]))
    costs = [cost_missed * np.sum((p < c) & (y == 1)) + cost_false * np.sum((p >= c) & (y == 0))
             for c in candidates]
    best = float(candidates[int(np.argmin(costs))])
    return min(max(best, 1e-3), 0.999)


def robust_baseline(x: np.ndarray, names: list[str]) -> dict[str, list[Any]]:
    """Median and robust scale of healthy rows: the normal-behaviour (anomaly) baseline."""
    keep = [i for i, n in enumerate(names) if "__z_" in n or "__mean_" in n]
    sub = x[:, keep]
    with warnings.catch_warnings():  # a signal never measured on healthy rows: NaN, dropped below
        warnings.simplefilter("ignore", RuntimeWarning)
        center = np.nanmedian(sub, axis=0)
        q75, q25 = np.nanpercentile(sub, 75, axis=0), np.nanpercentile(sub, 25, axis=0)
    scale = np.where((q75 - q25) > 1e-9, (q75 - q25) / 1.349, 1.0)
    ok = np.isfinite(center)
    return {"features": [names[keep[i]] for i in range(len(keep)) if ok[i]],
            "center": center[ok].tolist(), "scale": scale[ok].tolist()}


def normal_ranges(x: np.ndarray, names: list[str]) -> dict[str, tuple[float, float]]:
    """5th–95th percentile of each feature over healthy rows: the "normal" shown to operators."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lo, hi = np.nanpercentile(x, 5, axis=0), np.nanpercentile(x, 95, axis=0)
    return {n: (round(float(a), 6), round(float(b), 6))
            for n, a, b in zip(names, lo, hi, strict=True) if np.isfinite(a)}
