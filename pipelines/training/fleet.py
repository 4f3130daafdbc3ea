"""Fleet protocol: run-to-failure units (C-MAPSS style) are split by unit, never by time.

Evaluation holds out whole units (20 %, or grouped 5-fold when the fleet has fewer than 50
units); inside the training units fit / early-stopping / calibration slices are units too.
RUL is scored per held-out unit at its last observed cycle: each held-out run is cut at
``CUTS_PER_UNIT`` seeded random points, as the C-MAPSS test files are, and the prediction at
the cut is compared with the true remaining life (RMSE, PHM08 sum and mean, in the data's own
units). Every figure sits next to baselines fitted on the same split: a plain LightGBM script
on the raw columns of each row, a constant (training mean) and a linear fit on the cycle
count. Parameters are chosen by the task's own metric on validation units (RUL by RMSE,
classifiers by PR-AUC); after evaluation the registered bundle is refit on all units.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from pipelines.features import FeatureSpec, compute, signal_columns
from pipelines.features.conditions import fit as fit_conditions
from pipelines.models.bundle import booster_scores
from pipelines.training import fitting as F
from pipelines.training.config import TrainConfig
from pipelines.training.labels import LabelSpec, failures, make_labels
from pipelines.training.splits import Split

if TYPE_CHECKING:  # train imports this module; at run time train_fleet imports it lazily
    from pipelines.training.train import TrainResult

CUTS_PER_UNIT = 5
SMALL_FLEET = 50  # fewer units: grouped 5-fold instead of one 20 % holdout
MIN_UNITS, MIN_POSITIVES = 10, 20
Progress = Callable[[str, float], None]


def _rank(seed: int, unit: str) -> str:
    return hashlib.sha256(f"{seed}|{unit}".encode()).hexdigest()


def unit_folds(units: list[str], share: float, seed: int) -> list[list[str]]:
    """Held-out unit sets: one deterministic 20 % pick, or 5 groups for a small fleet."""
    ranked = sorted(units, key=lambda u: _rank(seed, u))
    if len(units) >= SMALL_FLEET:
        n = max(1, int(round(len(units) * share)))
        return [sorted(ranked[:n])]
    k = min(5, len(units))
    return [sorted(ranked[i::k]) for i in range(k)] if k >= 2 else [[]]


def inner_split(units: list[str], seed: int) -> tuple[set[str], set[str], set[str]]:
    """Training units -> fit (70 %), early-stopping validation (15 %), calibration (15 %)."""
    ranked = sorted(units, key=lambda u: _rank(seed + 1, u))
    n = len(ranked)
    nv = max(1, int(round(0.15 * n))) if n >= 4 else 0
    return set(ranked[2 * nv:]), set(ranked[:nv]), set(ranked[nv:2 * nv])


@dataclass
class FleetData:
    """Features and labels of every unit for one fitted spec."""

    spec: FeatureSpec
    features: pd.DataFrame
    labels: pd.DataFrame
    names: list[str]
    modes: list[str]
    fails: pd.DataFrame


def fleet_spec(telemetry: pd.DataFrame, cfg: TrainConfig, train_units: list[str]) -> FeatureSpec:
    """The spec with its signals fixed and, if asked, the condition normalisation fitted on training units."""
    spec = cfg.spec
    sigs = list(spec.signals) or [c for c in signal_columns(telemetry) if c not in cfg.condition_columns]
    sigs = [s for s in sigs if s not in cfg.condition_columns]
    spec = spec.with_signals(sigs)
    if cfg.condition_columns:
        rows = telemetry[telemetry["machine_id"].isin(train_units)]
        norm = fit_conditions(rows, sigs, list(cfg.condition_columns), cfg.condition_categorical, cfg.seed)
        spec = spec.model_copy(update={"conditions": norm})
    return spec


def build(telemetry: pd.DataFrame, events: pd.DataFrame | None, spec: FeatureSpec, cfg: TrainConfig,
          modes: list[str] | None, feedback: pd.DataFrame | None = None) -> FleetData:
    feats = compute(telemetry, spec, events)
    fails = failures(events, feedback)
    if modes is None:
        counts = fails["mode"].value_counts()
        modes = sorted(counts[counts >= cfg.min_failures].index)
    until = telemetry.groupby("machine_id")["ts"].max().to_dict()
    labels = make_labels(feats[["machine_id", "ts", "state"]], events, modes,
                         LabelSpec(cfg.horizon_hours, cfg.rul_cap_hours, cfg.defect_parts), until, feedback)
    names = [c for c in feats.columns if c not in ("machine_id", "ts", "state")]
    return FleetData(spec, feats, labels, names, modes, fails)


def make_unit_split(d: FleetData, held: list[str], seed: int) -> Split:
    machine = d.features["machine_id"]
    train_units = sorted(set(machine) - set(held))
    fit_u, val_u, cal_u = inner_split(train_units, seed)
    cut = d.features["ts"].max() + pd.Timedelta(seconds=1)
    return Split(fit=machine.isin(fit_u).to_numpy(), valid=machine.isin(val_u).to_numpy(),
                 calib=machine.isin(cal_u).to_numpy(), test_time=np.zeros(len(machine), bool),
                 test_machines=machine.isin(held).to_numpy(), cut=cut, held_out=list(held))


def cut_rows(machine: np.ndarray, rul: np.ndarray, seed: int) -> np.ndarray:
    """Row positions of ``CUTS_PER_UNIT`` seeded cut points per unit, among rows with a known RUL."""
    rng = np.random.default_rng(seed)
    picks = []
    for u in sorted(set(machine)):
        ok = np.flatnonzero((machine == u) & np.isfinite(rul))
        if len(ok):
            picks.append(rng.choice(ok, min(CUTS_PER_UNIT, len(ok)), replace=False))
    return np.sort(np.concatenate(picks)) if picks else np.zeros(0, int)


def per_unit_rul(true_h: np.ndarray, pred_h: np.ndarray, scale: float) -> dict[str, float]:
    """RMSE, MAE and PHM08 (sum, mean) of predictions at the cut points, in the data's units."""
    ok = np.isfinite(true_h) & np.isfinite(pred_h)
    d = (pred_h[ok] - true_h[ok]) * scale
    if not len(d):
        return {"rmse": float("nan"), "phm08_sum": float("nan"), "phm08_mean": float("nan"), "n": 0}
    pen = np.where(d < 0, np.exp(-d / 13.0) - 1, np.exp(d / 10.0) - 1)
    return {"rmse": float(np.sqrt(np.mean(d ** 2))), "mae": float(np.mean(np.abs(d))),
            "phm08_sum": float(pen.sum()), "phm08_mean": float(pen.mean()), "n": int(len(d))}


def _raw_matrix(telemetry: pd.DataFrame, feats: pd.DataFrame) -> pd.DataFrame:
    """The raw numeric columns of each feature row's own telemetry row (what a plain script uses)."""
    cols = [c for c in telemetry.columns if c not in ("machine_id", "ts", "state") and
            pd.api.types.is_numeric_dtype(telemetry[c]) and not pd.api.types.is_bool_dtype(telemetry[c])]
    keyed = telemetry.set_index(["machine_id", "ts"])[cols]
    return keyed.reindex(pd.MultiIndex.from_arrays([feats["machine_id"], feats["ts"]])).reset_index(drop=True)


def plain_lightgbm(x: pd.DataFrame, y: np.ndarray, train: np.ndarray, objective: str, threads: int,
                   seed: int) -> lgb.Booster:
    """The baseline script: LightGBM defaults (100 rounds) on the raw row, no windows, no normalisation."""
    keep = train & np.isfinite(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lgb.train({"objective": objective, "verbose": -1, "num_threads": threads, "seed": seed,
                          "deterministic": True}, lgb.Dataset(x[keep].to_numpy(dtype=float), y[keep]), 100)


def classification_report(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    """F1 / precision / recall at the chosen threshold and at the best threshold, PR-AUC, positives."""
    from sklearn.metrics import precision_recall_curve

    ok = np.isfinite(y) & np.isfinite(p)
    y, p = y[ok], p[ok]
    out: dict[str, float] = {"rows": int(len(y)), "positives": int(y.sum()), "pr_auc": F.pr_auc(y, p)}

    def at(t: float) -> tuple[float, float, float]:
        tp = float(np.sum((p >= t) & (y == 1)))
        prec = tp / max(float(np.sum(p >= t)), 1.0)
        rec = tp / max(float(y.sum()), 1.0)
        return prec, rec, (2 * prec * rec / (prec + rec) if prec + rec else 0.0)

    out["precision"], out["recall"], out["f1"] = at(threshold)
    out["threshold"] = float(threshold)
    if len(y) and 0 < y.sum() < len(y):
        prec, rec, thr = precision_recall_curve(y, p)
        f1 = np.where(prec + rec > 0, 2 * prec * rec / np.where(prec + rec > 0, prec + rec, 1), 0)[:-1]
        i = int(np.argmax(f1)) if len(f1) else 0
        out["best_threshold"] = float(thr[i]) if len(thr) else float("nan")
        out["best_precision"], out["best_recall"], out["best_f1"] = float(prec[i]), float(rec[i]), float(f1[i])
    return out


def warnings_for(units: int, positives: dict[str, int]) -> list[str]:
    out = []
    if units < MIN_UNITS:
        out.append(f"only {units} held-out units (< {MIN_UNITS}): the figures below are noisy; add units")
    for m, n in positives.items():
        if n < MIN_POSITIVES:
            out.append(f"mode {m}: only {n} positive rows held out (< {MIN_POSITIVES}): its F1/PR-AUC mean little")
    return out


def _choose(p: Any, cfg: TrainConfig, task: str, tick: Progress) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Parameter set with the best validation score of the task's own metric (RUL: RMSE)."""
    trials = F.param_trials(cfg.trials, cfg.seed)
    if task == "rul":
        trials = [F.BASE_PARAMS | FLEET_PARAMS] + trials[1:]
    if len(trials) == 1:
        return trials[0], []
    log, best, best_score = [], trials[0], -np.inf
    for i, trial in enumerate(trials):
        tick(f"search {i + 1}/{len(trials)}", 0.1 + 0.3 * i / len(trials))
        if task == "rul":
            x, y = _xy(p, p.split.fit, "rul_hours")
            xv, yv = _xy(p, p.split.valid, "rul_hours")
            b = F.fit_booster(x, y, xv, yv, "regression", trial | F.categorical(p.names), cfg.threads,
                              cfg.max_rounds, cfg.seed)
            score = -float(np.sqrt(np.mean((booster_scores(b, xv) - yv) ** 2)))
            log.append({"params": trial, "valid_rul_rmse": -score})
        else:
            from pipelines.training.train import valid_score

            score = valid_score(p, trial, cfg)
            log.append({"params": trial, "valid_pr_auc": score})
        if score > best_score:
            best, best_score = trial, score
    return best, log


FLEET_PARAMS: dict[str, Any] = {"learning_rate": 0.03, "num_leaves": 31, "min_data_in_leaf": 100,
                                "feature_fraction": 0.7}


def _xy(p: Any, mask: np.ndarray, target: str) -> tuple[np.ndarray, np.ndarray]:
    from pipelines.training.train import xy_rows

    return xy_rows(p, mask, target)


def _age_hours(feats: pd.DataFrame) -> np.ndarray:
    first = feats.groupby("machine_id")["ts"].transform("min")
    hours: np.ndarray = ((feats["ts"] - first) / pd.Timedelta(hours=1)).to_numpy(dtype=float)
    return hours


def train_fleet(telemetry: pd.DataFrame, events: pd.DataFrame | None, cfg: TrainConfig, kind: str,
                feedback: pd.DataFrame | None = None, progress: Progress | None = None) -> TrainResult:
    """Evaluate by held-out units (with baselines), then refit on every unit; returns a TrainResult."""
    from pipelines.training.train import Prepared, TrainingError, TrainResult, fit_bundle

    tick = progress or (lambda what, frac: None)
    units = sorted(telemetry["machine_id"].unique())
    if len(units) < 2:
        raise TrainingError(f"a split by units needs 2 or more units; this table has {len(units)} ({units[:1]}): "
                            "give --split time, or for one row per part with its own outcome use "
                            "`linewatch table train` (docs/training.md)")
    folds = unit_folds(units, cfg.holdout_machines or 0.2, cfg.seed)
    task = "classify" if cfg.task == "classify" else "rul"
    scale = 3600.0 / cfg.spec.cycle_seconds if "cycle" in telemetry else 1.0
    params: dict[str, Any] | None = None
    log: list[dict[str, Any]] = []
    modes: list[str] | None = None
    frames = []
    for fi, held in enumerate(folds):
        tick(f"fold {fi + 1}/{len(folds)}: features", 0.05 + 0.6 * fi / len(folds))
        train_units = [u for u in units if u not in held]
        spec = fleet_spec(telemetry, cfg, train_units)
        d = build(telemetry, events, spec, cfg, modes, feedback)
        if modes is None:
            tf = d.fails[d.fails["machine_id"].isin(train_units)]["mode"].value_counts()
            modes = sorted(tf[tf >= cfg.min_failures].index)
            if not modes:
                raise TrainingError(f"no failure mode has {cfg.min_failures}+ failures in the training units: "
                                    "nothing to learn (mark each run's failure with failure_mode or events)")
            d.modes = modes
        split = make_unit_split(d, held, cfg.seed)
        p = Prepared(d.features, d.labels, d.names, split, d.fails, modes)
        if params is None:
            params, log = _choose(p, cfg, task, tick)
        tick(f"fold {fi + 1}/{len(folds)}: fit", 0.1 + 0.6 * fi / len(folds))
        bundle = fit_bundle(p, kind, spec, params, cfg)
        mask = split.test_machines
        if not mask.any():
            continue
        feats = d.features.loc[mask]
        pred = bundle.predict(feats)
        raw = _raw_matrix(telemetry, d.features)
        train = split.train
        fr = pd.DataFrame({"machine_id": feats["machine_id"].to_numpy(), "ts": feats["ts"].to_numpy(),
                           "fold": fi, "rul_true": d.labels.loc[mask, "rul_hours"].to_numpy(dtype=float),
                           "rul_hours": pred["rul_hours"].to_numpy(dtype=float)})
        y_rul = d.labels["rul_hours"].to_numpy(dtype=float)
        ok = train & np.isfinite(y_rul)
        if ok.sum() >= 10:
            fr["rul_plain"] = plain_lightgbm(raw, y_rul, train, "regression", cfg.threads, cfg.seed).predict(
                raw[mask].to_numpy(dtype=float))
            fr["rul_constant"] = float(np.mean(y_rul[ok]))
            age = _age_hours(d.features)
            slope, icept = np.polyfit(age[ok], y_rul[ok], 1)
            fr["rul_linear"] = np.clip(icept + slope * age[mask], 0, cfg.rul_cap_hours)
        for m in modes:
            y = d.labels[f"y_{m}"].to_numpy(dtype=float)
            fr[f"y_{m}"] = y[mask]
            fr[f"p_{m}"] = pred[f"p_{m}"].to_numpy()
            fr[f"thr_{m}"] = bundle.thresholds[m]
            if np.nansum(y[train]) > 0:
                fr[f"plain_{m}"] = plain_lightgbm(raw, y, train, "binary", cfg.threads, cfg.seed).predict(
                    raw[mask].to_numpy(dtype=float))
        frames.append(fr)
    assert modes is not None and params is not None
    held_frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    metrics = fleet_metrics(held_frame, modes, cfg, scale, len(folds), task)
    metrics["rul_unit"] = "cycles" if "cycle" in telemetry else "hours"
    metrics["search"] = log
    tick("refit on every unit", 0.8)
    spec = fleet_spec(telemetry, cfg, units)
    d = build(telemetry, events, spec, cfg, modes, feedback)
    p = Prepared(d.features, d.labels, d.names, make_unit_split(d, [], cfg.seed), d.fails, modes)
    bundle = fit_bundle(p, kind, spec, params, cfg)
    metrics["skill"] = bundle.skill
    importance: dict[str, float] = {}
    boosters = list(bundle.classifiers.values()) + ([bundle.rul["mid"]] if bundle.rul else [])
    for b in boosters:
        for n, g in zip(bundle.features, b.feature_importance("gain"), strict=True):
            importance[n] = importance.get(n, 0.0) + float(g)
    data_range = {"start": d.features["ts"].min().isoformat(), "end": d.features["ts"].max().isoformat(),
                  "cut": None, "protocol": "units", "machines": units,
                  "held_out_machines": [u for f in folds for u in f], "folds": [len(f) for f in folds],
                  "feature_rows": int(len(d.features)), "telemetry_rows": int(len(telemetry))}
    tick("done", 1.0)
    return TrainResult(bundle, metrics, data_range, held_frame,
                       dict(sorted(importance.items(), key=lambda kv: -kv[1])))


def fleet_metrics(frame: pd.DataFrame, modes: list[str], cfg: TrainConfig, scale: float, folds: int,
                  task: str) -> dict[str, Any]:
    """Held-out-unit figures: RUL per unit at cut points and per-row classification, with baselines."""
    unit_name = "cycles" if scale != 1.0 or cfg.spec.cycle_seconds != 3600.0 else "hours"
    out: dict[str, Any] = {"protocol": "units", "folds": folds, "horizon_hours": cfg.horizon_hours,
                           "rul_unit": unit_name,
                           "held_out_units": int(frame["machine_id"].nunique()) if len(frame) else 0}
    text = "|".join(sorted(frame["machine_id"].unique())) if len(frame) else ""
    out["holdout_id"] = hashlib.sha256(f"units|{text}|{cfg.horizon_hours}|{cfg.seed}".encode()).hexdigest()[:12]
    rul: dict[str, Any] = {}
    if len(frame) and "rul_plain" in frame:
        cuts = cut_rows(frame["machine_id"].to_numpy(), frame["rul_true"].to_numpy(dtype=float), cfg.seed)
        t = frame["rul_true"].to_numpy()[cuts]
        for name, col in (("model", "rul_hours"), ("plain_lightgbm", "rul_plain"), ("constant", "rul_constant"),
                          ("linear_cycle", "rul_linear")):
            rul[name] = per_unit_rul(t, frame[col].to_numpy()[cuts], scale)
        rul["all_rows_model"] = per_unit_rul(frame["rul_true"].to_numpy(), frame["rul_hours"].to_numpy(), scale)
        rul["cuts_per_unit"] = CUTS_PER_UNIT
    out["rul"] = rul
    modes_out: dict[str, Any] = {}
    positives = {}
    for m in modes:
        y = frame[f"y_{m}"].to_numpy(dtype=float)
        entry = {"model": classification_report(y, frame[f"p_{m}"].to_numpy(), float(frame[f"thr_{m}"].iloc[0]))}
        if f"plain_{m}" in frame:
            entry["plain_lightgbm"] = classification_report(y, frame[f"plain_{m}"].to_numpy(), 0.5)
        modes_out[m] = entry
        positives[m] = int(entry["model"]["positives"])
    out["modes"] = modes_out
    out["warnings"] = warnings_for(out["held_out_units"], positives)
    if task == "rul" and rul:
        out["score"] = -rul["model"]["rmse"]
        out["score_name"] = f"-RMSE ({unit_name}) per held-out unit"
    else:
        pr = [v["model"]["pr_auc"] for v in modes_out.values() if np.isfinite(v["model"]["pr_auc"])]
        out["score"] = float(np.mean(pr)) if pr else 0.0
        out["score_name"] = "mean PR-AUC over held-out rows"
    out["future"] = {"modes": {}, "baseline": {}}
    out["machines"] = {"modes": {}, "baseline": {}}
    return out
