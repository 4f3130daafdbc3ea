"""Train one machine kind: features -> labels -> split -> LightGBM per task -> bundle.

Pure core (no Kafka, no DB): the CLI loads tables, calls :func:`train`, registers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from contracts.errors import LineWatchError
from pipelines.features import FeatureSpec
from pipelines.models.bundle import Calibration, ModelBundle, booster_scores
from pipelines.models.drift import reference
from pipelines.training import distributed
from pipelines.training import fitting as F
from pipelines.training.config import TrainConfig
from pipelines.training.evaluate import evaluate_frame
from pipelines.training.labels import LabelSpec, failures, make_labels
from pipelines.training.splits import Split, make_split

Progress = Callable[[str, float], None]  # (what, fraction done)


class TrainingError(LineWatchError):
    """Training cannot proceed: no failures to learn from, no rows, unknown kind…"""


def kind_of(machine_id: str) -> str:
    """``line-1/cnc-03`` -> ``cnc``; ``line-2/robot-01`` -> ``robot``."""
    name = machine_id.split("/")[-1]
    return re.sub(r"[-_]?\d+$", "", name) or name


@dataclass
class Prepared:
    """Feature rows with their labels and the split, for one kind and one spec."""

    features: pd.DataFrame
    labels: pd.DataFrame
    names: list[str]
    split: Split
    fails: pd.DataFrame
    modes: list[str]
    restores: pd.DataFrame | None = None  # maintenance_done (machine_id, ts, component): ends of alert episodes


@dataclass
class TrainResult:
    """A trained bundle with its holdout metrics and what the report needs."""

    bundle: ModelBundle
    metrics: dict[str, Any]
    data_range: dict[str, Any]
    holdout: pd.DataFrame
    importance: dict[str, float] = field(default_factory=dict)


def _when(ts: pd.Timestamp | None, spec: FeatureSpec, telemetry: pd.DataFrame) -> str:
    """A time in the data's own units: cycle N for cycle data, else ISO."""
    if ts is None:
        return "(default)"
    if "cycle" in telemetry:
        from pipelines.features.timeaxis import EPOCH

        return f"cycle {(pd.Timestamp(ts) - EPOCH).total_seconds() / spec.cycle_seconds:g}"
    iso: str = pd.Timestamp(ts).isoformat()
    return iso


def prepare(telemetry: pd.DataFrame, events: pd.DataFrame | None, spec: FeatureSpec, cfg: TrainConfig,
            feedback: pd.DataFrame | None = None, cut: pd.Timestamp | None = None,
            modes: list[str] | None = None) -> Prepared:
    """Compute features and labels and split them (time and machine holdouts)."""
    feats = distributed.features(telemetry, spec, events)  # in-process, or one Dask task per machine
    if feats.empty:
        raise TrainingError("no feature rows: the history is shorter than one step")
    fails = failures(events, feedback)
    fails = fails[fails["machine_id"].isin(feats["machine_id"].unique())]
    label_spec = LabelSpec(cfg.horizon_hours, cfg.rul_cap_hours, cfg.defect_parts,
                           tuple(sorted(cfg.mode_horizons_h.items())))
    split = make_split(feats, label_spec.longest, cfg.holdout_fraction, cfg.holdout_machines, cfg.seed, cut)
    if not split.test_time.any():
        raise TrainingError(f"nothing is held out after the cut {_when(cut, spec, telemetry)}: the history ends at "
                            f"{_when(feats['ts'].max(), spec, telemetry)}; give an earlier --cut")
    if not split.train.any():
        raise TrainingError(f"no training row before the cut {_when(split.cut, spec, telemetry)} (minus one "
                            f"horizon); give a later --cut or a shorter --horizon")
    if modes is None:
        train_fails = fails[(fails["ts"] < split.cut) & ~fails["machine_id"].isin(split.held_out)]
        counts = train_fails["mode"].value_counts()
        modes = sorted(counts[counts >= cfg.min_failures].index)
    if not modes:
        raise TrainingError(f"no failure mode has {cfg.min_failures}+ failures before the holdout: nothing to learn")
    until = telemetry.groupby("machine_id")["ts"].max().to_dict() if "ts" in telemetry else None
    labels = make_labels(feats[["machine_id", "ts", "state"]], events, modes,
                         label_spec, until, feedback)
    names = [c for c in feats.columns if c not in ("machine_id", "ts", "state")]
    restores = None
    if events is not None and len(events) and "component" in events:
        restores = events.loc[events["kind"] == "maintenance_done", ["machine_id", "ts", "component"]]
    return Prepared(feats, labels, names, split, fails, modes, restores)


def xy_rows(p: Prepared, mask: np.ndarray, target: str) -> tuple[np.ndarray, np.ndarray]:
    y = p.labels[target].to_numpy(dtype=float)
    keep = mask & np.isfinite(y)
    return p.features.loc[keep, p.names].to_numpy(dtype=float), y[keep]


def valid_score(p: Prepared, params: dict[str, Any], cfg: TrainConfig) -> float:
    """Mean validation PR-AUC over modes for one parameter set (the search objective)."""
    params = params | F.categorical(p.names)
    scores = []
    for m in p.modes:
        x, y = xy_rows(p, p.split.fit, f"y_{m}")
        xv, yv = xy_rows(p, p.split.valid, f"y_{m}")
        if y.sum() == 0:
            continue
        b = F.fit_booster(x, y, xv, yv, "binary", params, cfg.threads, cfg.max_rounds, cfg.seed)
        scores.append(F.pr_auc(yv, booster_scores(b, xv)))
    finite = [s for s in scores if np.isfinite(s)]
    return float(np.mean(finite)) if finite else 0.0


def mode_skill(p: Prepared, mode: str, booster: lgb.Booster, cal: Calibration, cfg: TrainConfig) -> dict[str, Any]:
    """Whether ``mode``'s calibrated model beats a no-skill constant on the validation slice (rows after
    the fit slice, used only for early stopping), or on validation + calibration when the validation
    slice has no failure of the mode (``fitting.validated_skill``)."""
    name, (x, y) = "valid", xy_rows(p, p.split.valid, f"y_{mode}")
    if not 0 < y.sum() < len(y):
        name, (x, y) = "valid+calib", xy_rows(p, p.split.valid | p.split.calib, f"y_{mode}")
    return F.validated_skill(y, cal(booster_scores(booster, x)) if len(y) else y, cfg.min_pr_auc_skill, name)


def _classifiers(p: Prepared, params: dict[str, Any], cfg: TrainConfig
                 ) -> tuple[dict[str, lgb.Booster], dict[str, Calibration], dict[str, float], dict[str, Any]]:
    boosters: dict[str, lgb.Booster] = {}
    cals: dict[str, Calibration] = {}
    thresholds: dict[str, float] = {}
    skill: dict[str, Any] = {}
    params = params | F.categorical(p.names)
    for m in p.modes:
        x, y = xy_rows(p, p.split.fit, f"y_{m}")
        xv, yv = xy_rows(p, p.split.valid, f"y_{m}")
        xc, yc = xy_rows(p, p.split.calib, f"y_{m}")
        if y.sum() == 0:
            raise TrainingError(f"mode {m}: no row of the fit slice has a failure within the horizon "
                                f"({cfg.horizon_hours:g} h); raise --horizon, or mark failures on the row where they "
                                "happen (failure_mode), or add history")
        boosters[m] = F.fit_booster(x, y, xv, yv, "binary", params, cfg.threads, cfg.max_rounds, cfg.seed)
        raw = booster_scores(boosters[m], xc)
        cals[m] = F.calibrate(raw, yc)
        row_threshold = F.cost_threshold(cals[m](raw), yc,
                                         cfg.cost_missed_failure, cfg.cost_needless_stop)
        thresholds[m] = row_threshold if cfg.threshold_on == "rows" else \
            _episode_threshold(p, m, boosters[m], cals[m], cfg, row_threshold)
        skill[m] = mode_skill(p, m, boosters[m], cals[m], cfg)
    return boosters, cals, thresholds, skill


def _episode_threshold(p: Prepared, mode: str, booster: lgb.Booster, cal: Calibration, cfg: TrainConfig,
                       fallback: float) -> float:
    """Threshold chosen on the alert episodes of the validation + calibration slices
    (``pipelines.training.episodes``); ``fallback`` (the row-cost threshold) without failures there."""
    from contracts.plant import MODE_COMPONENT
    from pipelines.health.rules import AlertRules
    from pipelines.training import episodes

    mask = p.split.valid | p.split.calib
    rows = p.features.loc[mask, ["machine_id", "ts"]]
    order = np.lexsort((rows["ts"].to_numpy(), rows["machine_id"].to_numpy()))
    x = p.features.loc[mask, p.names].to_numpy(dtype=float)[order]
    prob = cal(booster_scores(booster, x))
    machines = rows["machine_id"].to_numpy()[order]
    ts = rows["ts"].to_numpy(dtype="datetime64[ns]").astype("int64")[order]
    f = p.fails[p.fails["mode"] == mode]
    failures = {m: np.sort(g["ts"].to_numpy(dtype="datetime64[ns]").astype("int64"))
                for m, g in f.groupby("machine_id")}
    ends = {m: v.copy() for m, v in failures.items()}
    if p.restores is not None and MODE_COMPONENT.get(mode):
        r = p.restores[p.restores["component"] == MODE_COMPONENT[mode]]
        for m, g in r.groupby("machine_id"):
            ends[m] = np.sort(np.concatenate([ends.get(m, np.array([], dtype=np.int64)),
                                              g["ts"].to_numpy(dtype="datetime64[ns]").astype("int64")]))
    rules = AlertRules(raise_after=cfg.alert_raise_after)
    chosen, _ = episodes.choose(machines, ts, prob, failures, ends, cfg.horizon(mode), rules,
                                cfg.alert_recall_target, fallback)
    return chosen


def _regressors(p: Prepared, params: dict[str, Any], cfg: TrainConfig) -> dict[str, lgb.Booster]:
    params = params | F.categorical(p.names)
    x, y = xy_rows(p, p.split.fit, "rul_hours")
    xv, yv = xy_rows(p, p.split.valid, "rul_hours")
    if len(y) < 50:
        return {}
    if cfg.task == "rul":  # the primary output (fleets): the chosen parameters, full rounds
        fast, rounds = params, cfg.max_rounds
    else:
        # RUL is a secondary output: a faster learning rate and fewer rounds keep training time
        # dominated by the per-mode classifiers
        fast = params | {"learning_rate": max(0.1, params["learning_rate"])}
        rounds = min(cfg.max_rounds, 150)
    def fit(objective: str, **kw: Any) -> lgb.Booster:
        return F.fit_booster(x, y, xv, yv, objective, fast, cfg.threads, rounds, cfg.seed, **kw)

    return {"mid": fit("regression"), "low": fit("quantile", alpha=0.1), "high": fit("quantile", alpha=0.9)}


def _defect(p: Prepared, params: dict[str, Any], cfg: TrainConfig) -> tuple[lgb.Booster | None, Calibration | None]:
    params = params | F.categorical(p.names)
    x, y = xy_rows(p, p.split.fit, "y_defect")
    if len(y) < 50 or y.sum() < 5:
        return None, None
    xv, yv = xy_rows(p, p.split.valid, "y_defect")
    xc, yc = xy_rows(p, p.split.calib, "y_defect")
    b = F.fit_booster(x, y, xv, yv, "binary", params, cfg.threads, cfg.max_rounds, cfg.seed)
    return b, F.calibrate(booster_scores(b, xc), yc)


def _healthy(p: Prepared) -> np.ndarray:
    ys = p.labels[[f"y_{m}" for m in p.modes]].to_numpy(dtype=float)
    healthy: np.ndarray = p.split.fit & (np.nan_to_num(ys, nan=1.0).max(axis=1) == 0)
    return healthy


def fit_bundle(p: Prepared, kind: str, spec: FeatureSpec, params: dict[str, Any], cfg: TrainConfig) -> ModelBundle:
    """Fit every task on the fit slice (early stopping on valid, calibration on calib)."""
    boosters, cals, thresholds, skill = _classifiers(p, params, cfg)
    defect, defect_cal = _defect(p, params, cfg)
    healthy = p.features.loc[_healthy(p), p.names].to_numpy(dtype=float)
    fit_x = p.features.loc[p.split.fit, p.names].to_numpy(dtype=float)
    return ModelBundle(
        kind=kind, feature_spec=spec, features=p.names, modes=p.modes, horizon_hours=cfg.horizon_hours,
        mode_horizons_h={m: h for m, h in cfg.mode_horizons_h.items() if m in p.modes},
        thresholds=thresholds, classifiers=boosters, calibrations=cals, skill=skill, rul=_regressors(p, params, cfg),
        rul_cap_hours=cfg.rul_cap_hours, defect=defect, defect_calibration=defect_cal,
        anomaly=F.robust_baseline(healthy, p.names), normal=F.normal_ranges(healthy, p.names),
        reference={n: reference(fit_x[:, i]) for i, n in enumerate(p.names)},
        params=params | {"cost_missed_failure": cfg.cost_missed_failure,
                         "cost_needless_stop": cfg.cost_needless_stop})


def _search(telemetry: pd.DataFrame, events: pd.DataFrame | None, cfg: TrainConfig, feedback: Any,
            cut: Any, tick: Progress) -> tuple[Prepared, FeatureSpec, dict[str, Any], list[dict[str, Any]]]:
    """Budgeted search: window sets with default parameters, then parameter sets."""
    log: list[dict[str, Any]] = []
    best: tuple[float, Prepared | None, FeatureSpec | None] = (-1.0, None, None)
    for windows in cfg.window_candidates:
        spec = _condition_spec(telemetry, cfg.spec.model_copy(update={"windows": tuple(windows)}), cfg, cut)
        tick(f"features {windows}", 0.1)
        p = prepare(telemetry, events, spec, cfg, feedback, cut)
        score = valid_score(p, F.BASE_PARAMS, cfg) if len(cfg.window_candidates) > 1 else 0.0
        log.append({"windows": list(windows), "valid_pr_auc": score})
        if score > best[0]:
            best = (score, p, spec)
    _, best_p, best_spec = best
    if best_p is None or best_spec is None:  # TrainConfig requires at least one window set
        raise TrainingError("no window set was tried: window_candidates is empty")
    p, spec = best_p, best_spec
    params, best_score = F.BASE_PARAMS, -1.0
    trials = F.param_trials(cfg.trials, cfg.seed)
    for i, trial in enumerate(trials if len(trials) > 1 else []):
        tick(f"search {i + 1}/{len(trials)}", 0.2 + 0.4 * i / len(trials))
        score = valid_score(p, trial, cfg)
        log.append({"params": trial, "valid_pr_auc": score})
        if score > best_score:
            params, best_score = trial, score
    return p, spec, params, log


FLEET_SPEC = {"windows": (5, 10, 20, 30), "baseline_rows": 30, "stats": ("mean", "std", "slope")}


def fleet_defaults(cfg: TrainConfig) -> TrainConfig:
    """Short windows for short runs (cycle-indexed fleets) unless windows were chosen explicitly."""
    default = TrainConfig().window_candidates
    if ([tuple(w) for w in cfg.window_candidates] != [tuple(w) for w in default]
            or cfg.spec.windows != FeatureSpec().windows):
        spec = cfg.spec.model_copy(update={"windows": tuple(cfg.window_candidates[0])})
        return cfg.model_copy(update={"spec": spec})
    return cfg.model_copy(update={"spec": cfg.spec.model_copy(update=FLEET_SPEC),
                                  "window_candidates": [FLEET_SPEC["windows"]]})


def _condition_spec(telemetry: pd.DataFrame, spec: FeatureSpec, cfg: TrainConfig,
                    cut: pd.Timestamp | None) -> FeatureSpec:
    """Fit the condition normalisation on training rows only (not held-out machines, not after the cut)."""
    if not cfg.condition_columns:
        return spec
    from pipelines.training.fleet import fleet_spec
    from pipelines.training.splits import held_out_machines

    held = held_out_machines(sorted(telemetry["machine_id"].unique()), cfg.holdout_machines, cfg.seed)
    ts = telemetry["ts"]
    end = cut if cut is not None else ts.min() + (ts.max() - ts.min()) * (1 - cfg.holdout_fraction)
    rows = telemetry[(ts < end) & ~telemetry["machine_id"].isin(held)]
    return fleet_spec(rows, cfg.model_copy(update={"spec": spec}), sorted(rows["machine_id"].unique()))


def train(telemetry: pd.DataFrame, events: pd.DataFrame | None, cfg: TrainConfig, kind: str,
          feedback: pd.DataFrame | None = None, cut: pd.Timestamp | None = None,
          progress: Progress | None = None) -> TrainResult:
    """Train and evaluate the models of one machine kind on its history."""
    tick = progress or (lambda what, frac: None)
    telemetry = telemetry.dropna(axis=1, how="all")  # another kind's sensors: no columns for them
    if cfg.categorical_columns:  # the code list, learned once here and stored in the bundle's spec
        from pipelines.training.importer import learn_categories

        cats = learn_categories(telemetry, [c for c in cfg.categorical_columns if c in telemetry])
        cfg = cfg.model_copy(update={"spec": cfg.spec.model_copy(update={"categories": cats})})
    step = cfg.step_for(len(telemetry), "cycle" in telemetry)
    cfg = cfg.model_copy(update={"spec": cfg.spec.model_copy(update={"step": step})})
    protocol = cfg.protocol
    if protocol == "auto":  # a cut asks for a time split; otherwise cycle-indexed fleets split by unit
        protocol = "units" if "cycle" in telemetry and cut is None else "time"
    if protocol == "units":
        from pipelines.training.fleet import train_fleet

        if cut is not None:
            raise TrainingError("--cut splits by time; a fleet is split by unit (--split units). "
                                "Use --split time to hold out the time after the cut")
        fleet_cfg = cfg if cfg.task != "auto" else cfg.model_copy(update={"task": "rul"})
        fleet_cfg = fleet_defaults(fleet_cfg)
        # one run to failure per unit: no alert episodes to replay, the row-cost threshold stays
        fleet_cfg = fleet_cfg.model_copy(update={"threshold_on": "rows"})
        return train_fleet(telemetry, events, fleet_cfg, kind, feedback, tick)
    p, spec, params, log = _search(telemetry, events, cfg, feedback, cut, tick)
    tick("fit final models", 0.65)
    bundle = fit_bundle(p, kind, spec.with_signals([c.split("__")[0] for c in p.names if c.endswith("__last")]),
                        params, cfg)
    tick("evaluate holdouts", 0.85)
    metrics, holdout = evaluate_frame(bundle, p, cfg)
    metrics["search"] = log
    metrics["skill"] = bundle.skill
    importance: dict[str, float] = {}
    for m in bundle.modes:
        gain = bundle.classifiers[m].feature_importance("gain")
        for n, g in zip(bundle.features, gain, strict=True):
            importance[n] = importance.get(n, 0.0) + float(g)
    data_range = {"start": p.features["ts"].min().isoformat(), "end": p.features["ts"].max().isoformat(),
                  "cut": p.split.cut.isoformat(), "machines": sorted(p.features["machine_id"].unique()),
                  "held_out_machines": p.split.held_out, "feature_rows": int(len(p.features)),
                  "telemetry_rows": int(len(telemetry))}
    tick("done", 1.0)
    return TrainResult(bundle, metrics, data_range, holdout, dict(sorted(importance.items(), key=lambda kv: -kv[1])))
