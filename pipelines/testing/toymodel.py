"""A small but real model bundle per machine kind, for tests, the benchmark and a demo
with an empty registry: LightGBM models trained in seconds on the seeded synthetic CNC
history (``pipelines.training.synthetic``), with robot signal names mapped onto it.

It exercises the exact scoring path (features → LightGBM → calibration → SHAP) but its
skill is not the product's: production scores come from the registry champion that
``linewatch train`` builds from the plant's history.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

from contracts.plant import FAILURE_MODES
from pipelines.features import FeatureSpec, compute, feature_names
from pipelines.models import Calibration, ModelBundle, Registry
from pipelines.models.registry import STAND_IN_SOURCE
from pipelines.training.synthetic import synthetic_history

CNC_SIGNALS = ("spindle_speed_rpm", "spindle_power_kw", "spindle_vibration_rms_mm_s", "spindle_bearing_temp_c",
               "coolant_pressure_bar")
# robot signal ← synthetic CNC column with the same role (load, load, vibration-like, temperature, pressure)
ROBOT_SIGNALS = ("robot_power_kw", "joint2_current_a", "position_error_mm", "joint2_temp_c", "gripper_pressure_bar")
SMALL_SPEC = FeatureSpec(windows=(5, 20), stats=("mean", "std", "slope"), step=5, baseline_rows=40)


def _labels(tel: pd.DataFrame, events: pd.DataFrame, feats: pd.DataFrame, horizon_h: float) -> dict[str, np.ndarray]:
    fails = events[events["kind"] == "failure"]
    out = {}
    for mode in ("tool_wear", "spindle_bearing", "coolant"):
        y = np.zeros(len(feats))
        for mid, t in fails[fails["mode"] == mode][["machine_id", "ts"]].itertuples(index=False):
            t = pd.Timestamp(t)
            hit = (feats["machine_id"] == mid) & (feats["ts"] <= t) & (feats["ts"] > t - pd.Timedelta(hours=horizon_h))
            y[hit.to_numpy()] = 1
        out[mode] = y
    return out


def toy_bundle(kind: str = "cnc", spec: FeatureSpec = SMALL_SPEC, seed: int = 0, days: float = 4,
               trees: int = 40, horizon_hours: float = 24.0, version: str = "") -> ModelBundle:
    """A small bundle for ``kind`` (``cnc`` or ``robot``) trained on synthetic history.

    Training is deterministic in its arguments, so a process trains each combination once
    (about 3 s each) and every call gets its own bundle: fresh containers around the shared,
    read-only boosters, so a caller that edits thresholds or versions changes only its copy."""
    made = _trained(kind, spec.model_dump_json(), seed, days, trees, horizon_hours)
    return replace(made, features=list(made.features), modes=list(made.modes), thresholds=dict(made.thresholds),
                   classifiers=dict(made.classifiers), calibrations=dict(made.calibrations), rul=dict(made.rul),
                   normal=dict(made.normal), version=version or made.version)


@functools.lru_cache(maxsize=16)
def _history(days: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    return synthetic_history(n_machines=3, days=days, seed=seed)


@functools.lru_cache(maxsize=16)
def _trained(kind: str, spec_json: str, seed: int, days: float, trees: int, horizon_hours: float) -> ModelBundle:
    spec = FeatureSpec.model_validate_json(spec_json)
    tel, events = _history(days, seed)
    signals = CNC_SIGNALS if kind == "cnc" else ROBOT_SIGNALS
    tel = tel.rename(columns=dict(zip(CNC_SIGNALS, signals, strict=False)))
    spec = spec.with_signals(signals)
    feats = compute(tel, spec, events)
    names = feature_names(spec)
    x = feats[names].to_numpy(dtype=float)
    params = {"objective": "binary", "num_threads": 1, "verbose": -1, "num_leaves": 15, "seed": seed}
    labels = _labels(tel, events, feats, horizon_hours)
    modes = FAILURE_MODES[kind]
    classifiers = {mode: lgb.train(params, lgb.Dataset(x, labels[src]), trees)
                   for mode, src in zip(modes, ("tool_wear", "spindle_bearing", "coolant"), strict=False)}
    hours_to = np.clip(np.nan_to_num(x[:, names.index(f"{signals[1]}__mean_5")]) * 3.0, 0, 168)
    reg = {"objective": "regression", "num_threads": 1, "verbose": -1, "num_leaves": 15, "seed": seed}
    rul = {k: lgb.train(reg | ({"objective": "quantile", "alpha": a} if a else {}), lgb.Dataset(x, hours_to), trees)
           for k, a in (("mid", None), ("low", 0.1), ("high", 0.9))}
    healthy = np.nanpercentile(x, [5, 95], axis=0)
    normal = {n: (float(healthy[0, j]), float(healthy[1, j])) for j, n in enumerate(names)
              if np.isfinite(healthy[:, j]).all()}
    return ModelBundle(kind=kind, feature_spec=spec, features=names, modes=modes, horizon_hours=horizon_hours,
                       thresholds={m: 0.5 for m in modes}, classifiers=classifiers,
                       calibrations={m: Calibration([], []) for m in modes}, rul=rul, normal=normal,
                       version=f"{kind}-toy-{seed}")


def publish_toy_champions(registry_dir: Path, kinds: tuple[str, ...] = ("cnc", "robot")) -> dict[str, str]:
    """Register and promote a toy bundle per kind in a registry; returns version per kind."""
    registry = Registry(registry_dir)
    versions = {}
    for kind in kinds:
        version = registry.register(toy_bundle(kind), {"holdout_id": "toy", "score": 0.0},
                                    {"source": STAND_IN_SOURCE})
        registry.promote(version, force=True)
        versions[kind] = version
    return versions
