"""Population stability index (PSI) per feature: how far recent data moved from training.

Rule of thumb used in credit scoring and adopted here: PSI < 0.1 stable, 0.1–0.25 watch,
> 0.25 shifted (retrain). Bins are training deciles; missing values get their own bin.
"""

from __future__ import annotations

import numpy as np

_FLOOR = 1e-4  # keeps log() finite when a bin is empty


def reference(values: np.ndarray, bins: int = 10) -> dict[str, list[float]]:
    """Decile edges of the training values and the share of rows in each bin (+ missing)."""
    v = np.asarray(values, dtype=float)
    finite = v[np.isfinite(v)]
    if len(finite) == 0:
        return {"edges": [], "probs": [1.0]}
    edges = np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1]))
    return {"edges": edges.tolist(), "probs": _shares(v, edges).tolist()}


def _shares(v: np.ndarray, edges: np.ndarray) -> np.ndarray:
    finite = np.isfinite(v)
    counts = np.bincount(np.searchsorted(edges, v[finite], side="right"), minlength=len(edges) + 1)
    counts = np.append(counts, (~finite).sum()).astype(float)
    shares: np.ndarray = counts / max(1.0, counts.sum())
    return shares


def psi(ref: dict[str, list[float]], values: np.ndarray) -> float:
    """PSI of ``values`` against a :func:`reference`."""
    edges = np.asarray(ref["edges"], dtype=float)
    expected = np.asarray(ref["probs"], dtype=float)
    actual = _shares(np.asarray(values, dtype=float), edges)
    if len(expected) != len(actual):  # reference of an all-missing feature
        expected = np.append(np.zeros(len(actual) - 1), 1.0)
    e, a = np.maximum(expected, _FLOOR), np.maximum(actual, _FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def band(value: float) -> str:
    """``stable`` / ``watch`` / ``shifted`` for a PSI value."""
    return "stable" if value < 0.1 else "watch" if value < 0.25 else "shifted"
