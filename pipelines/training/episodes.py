"""Alert thresholds chosen on what an operator sees: alert episodes, not rows.

A row-level threshold (minimising cost·FN + FP over feature rows) says nothing about the
alerts the scorer raises: with a horizon of a few hours and a mode failing every ~15 h, a
quarter of all rows are positive, the cost-optimal row threshold is the Bayes floor
(≈ 0.05), and the alert opens hours before the horizon starts and stays open until the
failure - every such alert is false (raised too early) and the failure counts as missed.

Here a candidate threshold is judged by replaying the scorer's own alert rules
(``pipelines.health.rules.AlertRules``: raise after ``raise_after`` consecutive scores at or
above it, clear after ``clear_after`` below ``clear_ratio`` × it, an open alert resolved when
its component fails or is restored) on a validation slice, and counting, per machine and
mode as the pilot does (``services/pilot/alertq.py``):

- precision: raised alerts followed by a failure of that mode within the horizon H;
- recall: failures with an alert raised in the H before them.

The chosen threshold maximises precision among the candidates whose recall reaches
``target_recall``; when none does, the one with the highest recall (ties: higher precision).
The validation slice is never the test data (``pipelines.training.splits``: the training
period's calibration slice; the pilot's and the held-out protocol's validation seeds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.health.rules import AlertRules


@dataclass(frozen=True)
class EpisodeCounts:
    """Alert episodes of one mode at one threshold on one slice."""

    threshold: float
    alerts: int
    true_alerts: int
    failures: int
    detected: int

    @property
    def precision(self) -> float:
        return self.true_alerts / self.alerts if self.alerts else float("nan")

    @property
    def recall(self) -> float:
        return self.detected / self.failures if self.failures else float("nan")


def raises(ts: np.ndarray, p: np.ndarray, ends: np.ndarray, threshold: float, rules: AlertRules) -> np.ndarray:
    """Raise times of one machine's alerts (``ts`` sorted, int64 ns) under the alert rules.

    ``ends``: sorted times (ns) at which the component failed or was restored; an open alert
    is resolved there and the hysteresis counters start again.
    """
    out = []
    above = below = 0
    open_ = False
    k = 0
    clear = threshold * rules.clear_ratio
    for t, v in zip(ts, p, strict=True):
        while k < len(ends) and ends[k] < t:  # an episode ended before this score
            open_, above, below = False, 0, 0
            k += 1
        above = above + 1 if v >= threshold else 0
        below = below + 1 if v < clear else 0
        if not open_:
            if above >= rules.raise_after:
                open_, below = True, 0
                out.append(t)
        elif below >= rules.clear_after:
            open_, above = False, 0
    return np.array(out, dtype=np.int64)


def counts(machines: np.ndarray, ts: np.ndarray, p: np.ndarray, failures: dict[str, np.ndarray],
           ends: dict[str, np.ndarray], horizon_h: float, threshold: float, rules: AlertRules) -> EpisodeCounts:
    """Episode counts over a slice: rows (machine, ts ns, calibrated p) sorted by machine then time."""
    h = int(horizon_h * 3600e9)
    alerts = true = n_fail = detected = 0
    for m in np.unique(machines):
        sel = machines == m
        t = ts[sel]
        r = raises(t, p[sel], ends.get(m, np.array([], dtype=np.int64)), threshold, rules)
        f = failures.get(m, np.array([], dtype=np.int64))
        f = f[(f > t[0]) & (f <= t[-1] + h)]
        alerts += len(r)
        if len(f):
            nxt = np.searchsorted(f, r, side="right")  # first failure strictly after each raise
            ok = nxt < len(f)
            true += int(((f[np.minimum(nxt, len(f) - 1)] - r) <= h)[ok].sum())
        f_in = f[f <= t[-1]]  # failures inside the slice (later ones cannot be detected in it)
        n_fail += len(f_in)
        for ft in f_in:
            detected += int(((r < ft) & (r >= ft - h)).any())
    return EpisodeCounts(threshold, alerts, true, n_fail, detected)


def choose(machines: np.ndarray, ts: np.ndarray, p: np.ndarray, failures: dict[str, np.ndarray],
           ends: dict[str, np.ndarray], horizon_h: float, rules: AlertRules, target_recall: float,
           fallback: float) -> tuple[float, EpisodeCounts | None]:
    """The threshold of the module docstring; ``fallback`` when the slice holds no failure."""
    if not sum(len(v) for v in failures.values()) or len(p) == 0:
        return fallback, None
    finite = p[np.isfinite(p)]
    grid = np.unique(np.round(np.concatenate([np.quantile(finite, np.linspace(0.5, 0.999, 60)),
                                              np.linspace(0.05, 0.95, 19)]), 4))
    grid = grid[(grid > 0) & (grid < 1)]
    results = [counts(machines, ts, p, failures, ends, horizon_h, float(c), rules) for c in grid]
    results = [r for r in results if r.alerts and r.failures]
    if not results:
        return fallback, None
    reach = [r for r in results if r.recall >= target_recall]
    if reach:
        best = max(reach, key=lambda r: (r.precision, r.recall, -r.threshold))
    else:
        best = max(results, key=lambda r: (r.recall, r.precision, -r.threshold))
    return float(best.threshold), best
