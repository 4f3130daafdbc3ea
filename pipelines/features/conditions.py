"""Operating-condition normalisation for multi-regime data (pure; fitted at training time).

Machines that run several programs / regimes (C-MAPSS FD002/FD004: six flight conditions)
show sensor levels that jump with the regime, hiding the slow drift of wear. Each row is
assigned a condition (a given condition column, or the nearest centre of a k-means
clustering of the settings columns) and every signal becomes a z-score against the
training mean / std of its condition. The fitted :class:`ConditionNorm` is part of the
:class:`~pipelines.features.FeatureSpec`, so training, ``linewatch predict`` and the
streaming scorer apply the same transform (it is per row: no extra history is needed).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

MAX_CLUSTERS = 8
_FIT_SAMPLE = 20_000


class ConditionNorm(BaseModel):
    """A fitted normalisation: how rows get a condition, and each signal's mean / std per condition."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    columns: tuple[str, ...]  # settings columns clustered, or the single condition column
    categorical: bool = False  # True: the column's values are the conditions
    labels: tuple[str, ...] = ()  # categorical: the known values, in order
    centers: tuple[tuple[float, ...], ...] = ()  # clustering: centres in scaled settings space
    scale: tuple[float, ...] = ()  # clustering: per settings column divisor
    signals: tuple[str, ...] = ()
    mean: tuple[tuple[float, ...], ...] = ()  # conditions x signals
    std: tuple[tuple[float, ...], ...] = ()  # conditions x signals; 0 = constant there

    @property
    def n_conditions(self) -> int:
        return len(self.mean)


def _kmeans(x: np.ndarray, seed: int) -> np.ndarray:
    """Centres of the clustering with the best silhouette (k = 1 when nothing separates)."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    rng = np.random.default_rng(seed)
    sample = x[rng.choice(len(x), 1500, replace=False)] if len(x) > 1500 else x
    best: tuple[float, np.ndarray] = (0.7, x.mean(axis=0, keepdims=True))  # needs a clear structure
    for k in range(2, min(MAX_CLUSTERS, len(np.unique(sample, axis=0))) + 1):
        km = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(sample)
        s = silhouette_score(sample, km.labels_)
        if s > best[0] + 0.01:
            best = (s, km.cluster_centers_)
        elif best[0] > 0.9 and s < best[0] - 0.05:
            break  # past a clear optimum
    return best[1]


def assign(frame: pd.DataFrame, norm: ConditionNorm) -> np.ndarray:
    """Condition index of every row (-1: unknown category or missing settings)."""
    if norm.categorical:
        codes = {v: i for i, v in enumerate(norm.labels)}
        col = frame[norm.columns[0]] if norm.columns[0] in frame else pd.Series(np.nan, index=frame.index)
        index: np.ndarray = col.map(lambda v: codes.get(str(v), -1) if pd.notna(v) else -1).to_numpy(dtype=int)
        return index
    x = frame.reindex(columns=list(norm.columns)).to_numpy(dtype=float) / np.asarray(norm.scale)
    c = np.asarray(norm.centers)
    d = ((x[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
    out = np.where(np.isfinite(d).all(axis=1), np.argmin(np.nan_to_num(d, nan=np.inf), axis=1), -1)
    return out.astype(int)


def fit(frame: pd.DataFrame, signals: list[str], columns: list[str], categorical: bool = False,
        seed: int = 0) -> ConditionNorm:
    """Fit on training rows: conditions from ``columns`` and per-condition signal statistics."""
    sub = frame.sample(_FIT_SAMPLE, random_state=seed) if len(frame) > _FIT_SAMPLE * 5 else frame
    if categorical:
        labels = tuple(sorted(str(v) for v in sub[columns[0]].dropna().unique()))
        norm = ConditionNorm(columns=tuple(columns), categorical=True, labels=labels)
    else:
        raw = sub[columns].to_numpy(dtype=float)
        raw = raw[np.isfinite(raw).all(axis=1)]
        scale = np.where(raw.std(axis=0) > 1e-12, raw.std(axis=0), 1.0)
        centers = _kmeans(raw / scale, seed)
        norm = ConditionNorm(columns=tuple(columns), centers=tuple(map(tuple, centers.tolist())),
                             scale=tuple(scale.tolist()))
    cond = assign(frame, norm)
    x = frame[signals].to_numpy(dtype=float)
    k = len(norm.labels) if categorical else len(norm.centers)
    mean, std = np.zeros((k, len(signals))), np.zeros((k, len(signals)))
    with np.errstate(all="ignore"):
        for i in range(k):
            rows = x[cond == i]
            if len(rows):
                mean[i] = np.nan_to_num(np.nanmean(rows, axis=0)) if np.isfinite(rows).any() else 0.0
                sd = np.nanstd(rows, axis=0)
                std[i] = np.where(np.isfinite(sd) & (sd > 1e-9 * np.maximum(1.0, np.abs(mean[i]))), sd, 0.0)
    return norm.model_copy(update={"signals": tuple(signals), "mean": tuple(map(tuple, mean.tolist())),
                                   "std": tuple(map(tuple, std.tolist()))})


def apply(frame: pd.DataFrame, norm: ConditionNorm) -> pd.DataFrame:
    """``frame`` with each known signal replaced by its z-score within the row's condition.

    Rows of an unknown condition get NaN (the models treat them as missing); a signal that is
    constant within a condition becomes 0 there.
    """
    cond = assign(frame, norm)
    sigs = [s for s in norm.signals if s in frame.columns]
    idx = [norm.signals.index(s) for s in sigs]
    mean = np.asarray(norm.mean)[:, idx] if sigs else np.zeros((0, 0))
    std = np.asarray(norm.std)[:, idx] if sigs else np.zeros((0, 0))
    x = frame[sigs].to_numpy(dtype=float)
    ok = cond >= 0
    c = np.where(ok, cond, 0)
    m, s = mean[c], std[c]
    with np.errstate(all="ignore"):
        z = np.where(s > 0, (x - m) / np.where(s > 0, s, 1.0), np.where(np.isfinite(x), 0.0, np.nan))
    z[~ok] = np.nan
    return frame.assign(**{name: z[:, j] for j, name in enumerate(sigs)})
