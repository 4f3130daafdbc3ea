"""``ModelBundle``: everything needed to score one machine kind, saved as plain files.

A bundle is a folder of LightGBM text models plus ``bundle.json`` (spec, thresholds,
calibration curves, normal ranges, drift references, each mode's validated skill). Nothing
is pickled, so loading a bundle from a registry cannot run foreign code.
"""

from __future__ import annotations

import hashlib
import json
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from contracts.errors import ContractError
from contracts.messages import Factor
from pipelines.features import FeatureSpec
from pipelines.models.drift import psi

log = logging.getLogger(__name__)

OUTPUT_COLUMNS = ("rul_hours", "rul_low_hours", "rul_high_hours", "rul_mode", "defect_risk", "anomaly_score")


@dataclass
class Calibration:
    """Monotone map from raw model score to probability (isotonic steps, linear between)."""

    x: list[float]
    y: list[float]

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        if not self.x:
            return np.asarray(raw, dtype=float)
        probability: np.ndarray = np.clip(np.interp(raw, self.x, self.y), 0.0, 1.0)
        return probability


#: Below this many rows a prediction runs on one thread: LightGBM's OpenMP start-up costs far more
#: than a few rows (28 trees, 6 rows: 1.4-2.2 ms with 2 threads on a loaded 2-core box, 0.04 ms with
#: one); each row's prediction is the same either way.
ONE_THREAD_ROWS = 1000


def booster_scores(booster: lgb.Booster, x: np.ndarray, **kw: Any) -> np.ndarray:
    """A booster's predictions for a dense matrix, as a float array (LightGBM's own type says
    array, sparse matrix or list, depending on the input)."""
    if len(x) < ONE_THREAD_ROWS:
        kw.setdefault("num_threads", 1)
    return np.asarray(booster.predict(x, **kw), dtype=float)


def _columns(x: np.ndarray, names: list[str], wanted: list[str]) -> np.ndarray:
    """The ``wanted`` columns of ``x`` (columns ``names``), NaN where absent: ``reindex`` on a matrix."""
    at = {name: i for i, name in enumerate(names)}
    idx = [at.get(w, -1) for w in wanted]
    if idx == list(range(len(names))) and len(wanted) == len(names):
        return np.asarray(x, dtype=float)
    out = x[:, idx].astype(float)
    missing = [j for j, i in enumerate(idx) if i < 0]
    if missing:
        out[:, missing] = np.nan
    return out


@dataclass
class ModelBundle:
    """Models of one machine kind: failure-within-horizon per mode, RUL, defect risk, anomaly."""

    kind: str
    feature_spec: FeatureSpec
    features: list[str]
    modes: list[str]
    horizon_hours: float
    thresholds: dict[str, float]
    classifiers: dict[str, lgb.Booster]
    calibrations: dict[str, Calibration]
    rul: dict[str, lgb.Booster] = field(default_factory=dict)  # "mid", "low", "high"
    rul_cap_hours: float = 168.0
    defect: lgb.Booster | None = None
    defect_calibration: Calibration | None = None
    anomaly: dict[str, list[Any]] = field(default_factory=dict)  # features, center, scale
    normal: dict[str, tuple[float, float]] = field(default_factory=dict)
    reference: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    version: str = ""
    mode_horizons_h: dict[str, float] = field(default_factory=dict)  # per-mode horizon; missing: horizon_hours
    # per mode: did its model beat a no-skill constant on validation (``fitting.validated_skill``)?
    # skilled False: left out of health and alerts; None (no failure to judge on) and bundles trained
    # before skill was recorded (empty): the mode is used.
    skill: dict[str, dict[str, Any]] = field(default_factory=dict)

    def horizon(self, mode: str) -> float:
        """Horizon (h) of ``p_<mode>``."""
        return self.mode_horizons_h.get(mode, self.horizon_hours)

    @property
    def no_skill_modes(self) -> list[str]:
        """Modes whose model did not beat a no-skill constant on validation: left out of health, alerts
        and explanations."""
        return [m for m in self.modes if self.skill.get(m, {}).get("skilled") is False]

    @property
    def unvalidated_modes(self) -> list[str]:
        """Modes whose validation slices held no failure to judge the model on (used; logged at load)."""
        return [m for m in self.modes if m in self.skill and self.skill[m].get("skilled") is None]

    @property
    def scored_modes(self) -> list[str]:
        """Modes that enter health and alerts: every mode but :attr:`no_skill_modes`."""
        unskilled = set(self.no_skill_modes)
        return [m for m in self.modes if m not in unskilled]

    def skill_reason(self, mode: str) -> str:
        """Why ``mode`` has no validated skill, in one line (logs, API)."""
        s = self.skill.get(mode, {})
        if s.get("pr_auc") is None:
            return f"not validated: no failure to judge on in the {s.get('slice')} slice"
        return (f"no validated skill: {s.get('slice')} PR-AUC {s['pr_auc']:.3f} vs positive rate "
                f"{s['positive_rate']:.3f} (skill {s['pr_auc_skill']:.3f} < {s['min_skill']:g})")

    # ---------- scoring
    def matrix(self, features: pd.DataFrame) -> np.ndarray:
        """The model input matrix: bundle columns in order, missing ones as NaN."""
        try:
            matrix: np.ndarray = features.reindex(columns=self.features).to_numpy(dtype=float)
            return matrix
        except (ValueError, TypeError) as exc:
            raise ContractError(f"features are not numeric: {exc}") from exc

    def predict(self, features: pd.DataFrame) -> pd.DataFrame:
        """``p_<mode>`` (calibrated), RUL with an 80 % interval, defect risk and anomaly score."""
        x = self.matrix(features)
        anomaly = features.reindex(columns=self.anomaly["features"]).to_numpy(dtype=float) if self.anomaly else None
        out = pd.DataFrame(index=features.index)
        for name, value in self._outputs(x, anomaly, len(features)).items():
            out[name] = value
        return out

    def predict_matrix(self, x: np.ndarray, names: list[str]) -> dict[str, np.ndarray]:
        """:meth:`predict` of a float matrix whose columns are ``names``, as one array per output
        column (``rul_mode``: object). The scorer calls this every step for a few rows, where
        building and indexing the DataFrames cost five times the models; the numbers are the same."""
        n = len(x)
        anomaly = _columns(x, names, self.anomaly["features"]) if self.anomaly else None
        out: dict[str, np.ndarray] = {}
        for name, value in self._outputs(_columns(x, names, self.features), anomaly, n).items():
            if isinstance(value, np.ndarray):
                out[name] = value
            elif isinstance(value, list):
                out[name] = np.array(value, dtype=object)
            else:
                out[name] = np.full(n, value, dtype=object if value is None else float)
        return out

    def _outputs(self, x: np.ndarray, anomaly: np.ndarray | None, n: int) -> dict[str, Any]:
        """The output columns in order, as :meth:`predict` assigns them (arrays, a list or scalars)."""
        out: dict[str, Any] = {}
        for mode in self.modes:
            out[f"p_{mode}"] = self.calibrations[mode](booster_scores(self.classifiers[mode], x))
        if self.rul:
            mid, lo, hi = (np.clip(booster_scores(self.rul[k], x), 0, self.rul_cap_hours)
                           for k in ("mid", "low", "high"))
            out["rul_hours"] = mid
            out["rul_low_hours"], out["rul_high_hours"] = np.minimum(lo, mid), np.maximum(hi, mid)
        else:
            out["rul_hours"] = out["rul_low_hours"] = out["rul_high_hours"] = np.nan
        scored = self.scored_modes  # a model without skill never names the RUL's mode
        probs = np.column_stack([out[f"p_{m}"] for m in scored]) if scored else None
        out["rul_mode"] = [scored[i] for i in probs.argmax(axis=1)] if probs is not None else None
        if self.defect is not None:
            raw = booster_scores(self.defect, x)
            out["defect_risk"] = self.defect_calibration(raw) if self.defect_calibration else raw
        else:
            out["defect_risk"] = np.nan
        out["anomaly_score"] = self._anomaly(anomaly) if anomaly is not None else np.full(n, np.nan)
        return out

    def anomaly_score(self, features: pd.DataFrame) -> np.ndarray:
        """RMS of robust z-scores against the healthy training rows (0 ≈ normal, > 3 unusual)."""
        if not self.anomaly:
            return np.full(len(features), np.nan)
        return self._anomaly(features.reindex(columns=self.anomaly["features"]).to_numpy(dtype=float))

    def _anomaly(self, x: np.ndarray) -> np.ndarray:
        z = np.clip(np.abs((x - np.asarray(self.anomaly["center"])) / np.asarray(self.anomaly["scale"])), 0, 10)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # rows with every feature missing -> NaN
            rms: np.ndarray = np.sqrt(np.nanmean(z ** 2, axis=1))
            return rms

    def explain(self, features: pd.DataFrame, top_k: int = 3, mode: str | None = None,
                probabilities: np.ndarray | None = None) -> list[list[Factor]]:
        """Top features pushing each row towards failure (LightGBM ``pred_contrib``).

        Uses ``mode``'s model, or per row the mode with the highest probability. Each
        factor carries the feature value and its normal range (5th–95th percentile of
        healthy training rows). ``probabilities`` (rows x ``modes``, the ``p_<mode>`` columns
        of :meth:`predict` for these rows) saves predicting again when the caller has them.
        """
        x = self.matrix(features)
        if mode is None:
            probs = np.array(probabilities if probabilities is not None else
                             self.predict(features)[[f"p_{m}" for m in self.modes]].to_numpy(), dtype=float)
            scored = self.scored_modes
            if not scored:
                return [[] for _ in range(len(x))]
            probs[:, [i for i, m in enumerate(self.modes) if m not in scored]] = -np.inf  # no skill: never explained
            chosen = [self.modes[i] for i in probs.argmax(axis=1)]
        else:
            chosen = [mode] * len(x)
        contrib = {m: booster_scores(self.classifiers[m], x, pred_contrib=True)[:, :-1] for m in set(chosen)}
        result = []
        for i, m in enumerate(chosen):
            order = np.argsort(-contrib[m][i])[:top_k]
            result.append([self._factor(j, contrib[m][i, j], x[i, j]) for j in order if contrib[m][i, j] > 0])
        return result

    def _factor(self, j: int, contribution: float, value: float) -> Factor:
        name = self.features[j]
        lo, hi = self.normal.get(name, (None, None))
        return Factor(feature=name, contribution=round(float(contribution), 6),
                      value=None if not np.isfinite(value) else float(value), normal_low=lo, normal_high=hi)

    def drift(self, recent: pd.DataFrame) -> dict[str, float]:
        """PSI per feature of ``recent`` feature rows against the training data, largest first."""
        out = {f: psi(ref, recent[f].to_numpy(dtype=float) if f in recent else np.full(len(recent), np.nan))
               for f, ref in self.reference.items()}
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    # ---------- files
    def _models(self) -> dict[str, lgb.Booster]:
        models = {f"clf_{m}": b for m, b in self.classifiers.items()}
        models |= {f"rul_{k}": b for k, b in self.rul.items()}
        if self.defect is not None:
            models["defect"] = self.defect
        return models

    def save(self, folder: Path) -> str:
        """Write the bundle to ``folder``; returns its content hash (sha256)."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, booster in self._models().items():
            (folder / f"{name}.txt").write_text(booster.model_to_string())
        (folder / "bundle.json").write_text(json.dumps(self._meta(), indent=1, sort_keys=True))
        return content_hash(folder)

    def _meta(self) -> dict[str, Any]:
        return {"kind": self.kind, "feature_spec": self.feature_spec.model_dump(mode="json"),
                "features": self.features, "modes": self.modes, "horizon_hours": self.horizon_hours,
                "mode_horizons_h": self.mode_horizons_h, "thresholds": self.thresholds,
                "rul_cap_hours": self.rul_cap_hours,
                "calibrations": {m: [c.x, c.y] for m, c in self.calibrations.items()},
                "defect_calibration": [self.defect_calibration.x, self.defect_calibration.y]
                if self.defect_calibration else None, "anomaly": self.anomaly,
                "normal": self.normal, "reference": self.reference, "params": self.params, "skill": self.skill,
                "models": sorted(self._models())}

    @classmethod
    def load(cls, folder: Path, version: str = "") -> ModelBundle:
        """Read a bundle written by :meth:`save`."""
        try:
            meta = json.loads((folder / "bundle.json").read_text())
            boosters = {n: lgb.Booster(model_str=(folder / f"{n}.txt").read_text()) for n in meta["models"]}
        except (OSError, ValueError, KeyError, lgb.basic.LightGBMError) as exc:
            raise ContractError(f"model bundle {folder} is unreadable: {exc}") from exc
        dc = meta["defect_calibration"]
        bundle = cls(kind=meta["kind"], feature_spec=FeatureSpec(**meta["feature_spec"]), features=meta["features"],
                   modes=meta["modes"], horizon_hours=meta["horizon_hours"], thresholds=meta["thresholds"],
                   classifiers={m: boosters[f"clf_{m}"] for m in meta["modes"]},
                   calibrations={m: Calibration(*xy) for m, xy in meta["calibrations"].items()},
                   rul={k: boosters[f"rul_{k}"] for k in ("mid", "low", "high") if f"rul_{k}" in boosters},
                   rul_cap_hours=meta["rul_cap_hours"], defect=boosters.get("defect"),
                   defect_calibration=Calibration(*dc) if dc else None, anomaly=meta["anomaly"],
                   normal={k: tuple(v) for k, v in meta["normal"].items()}, reference=meta["reference"],
                   params=meta["params"], version=version, mode_horizons_h=meta.get("mode_horizons_h", {}),
                   skill=meta.get("skill", {}))
        if "skill" not in meta:
            log.info("model %s (%s) records no validated skill (trained before it was recorded): every mode is "
                     "used for health and alerts", version or folder.name, bundle.kind)
        for mode in bundle.no_skill_modes:
            log.warning("model %s (%s): mode %s left out of health and alerts: %s", version or folder.name,
                        bundle.kind, mode, bundle.skill_reason(mode))
        for mode in bundle.unvalidated_modes:
            log.warning("model %s (%s): mode %s used for health and alerts but %s", version or folder.name,
                        bundle.kind, mode, bundle.skill_reason(mode))
        return bundle


def content_hash(folder: Path) -> str:
    """sha256 over the bundle's files (names and bytes), independent of file times."""
    h = hashlib.sha256()
    for p in sorted(folder.iterdir()):
        if p.is_file() and p.name != "meta.json":
            h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()
