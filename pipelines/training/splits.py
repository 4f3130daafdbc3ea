"""Honest splits: held-out future time and held-out machines, never random rows.

Training rows end one horizon before the time cut, so no training label looks into the
test period. Inside training, fit / early-stopping validation / calibration slices
follow each other in time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class Split:
    """Boolean row masks over the feature table."""

    fit: np.ndarray
    valid: np.ndarray
    calib: np.ndarray
    test_time: np.ndarray
    test_machines: np.ndarray
    cut: pd.Timestamp
    held_out: list[str]

    @property
    def train(self) -> np.ndarray:
        rows: np.ndarray = self.fit | self.valid | self.calib
        return rows

    def holdout_id(self, horizon_h: float) -> str:
        """Stable id of the holdout: two models with the same id were tested on the same rows."""
        text = f"{self.cut.isoformat()}|{sorted(self.held_out)}|{horizon_h}"
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def held_out_machines(machines: list[str], share: float, seed: int) -> list[str]:
    """A deterministic pick of machines (none when fewer than three)."""
    if len(machines) < 3 or share <= 0:
        return []
    n = max(1, int(round(len(machines) * share)))
    ranked = sorted(machines, key=lambda m: hashlib.sha256(f"{seed}|{m}".encode()).hexdigest())
    return sorted(ranked[:n])


def make_split(rows: pd.DataFrame, horizon_h: float, holdout_fraction: float, machine_share: float,
               seed: int = 0, cut: pd.Timestamp | None = None) -> Split:
    """Split feature rows (machine_id, ts) by time and by machine."""
    ts = rows["ts"]
    if cut is None:
        cut = ts.min() + (ts.max() - ts.min()) * (1 - holdout_fraction)
    held = held_out_machines(sorted(rows["machine_id"].unique()), machine_share, seed)
    is_held = rows["machine_id"].isin(held).to_numpy()
    train = ~is_held & (ts + pd.Timedelta(hours=horizon_h) <= cut).to_numpy()
    t0, t1 = ts[train].min(), ts[train].max()
    rel = ((ts - t0) / (t1 - t0)).to_numpy() if train.any() and t1 > t0 else np.zeros(len(rows))
    return Split(fit=train & (rel < 0.7), valid=train & (rel >= 0.7) & (rel < 0.85), calib=train & (rel >= 0.85),
                 test_time=~is_held & (ts >= cut).to_numpy(), test_machines=is_held, cut=cut, held_out=held)
