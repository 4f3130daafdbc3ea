"""Statistics over seeds: means with Student-t confidence intervals, and paired improvements.

Common random numbers make the arms of one seed a matched pair, so an improvement is
computed per seed and its interval taken over the per-seed differences — far narrower
than comparing two independent means.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from scipy import stats as sps


def interval(values: Sequence[float | None], confidence: float = 0.95) -> dict[str, float | int | None]:
    """Mean, standard deviation and the two-sided t interval of ``values`` (``None`` values are dropped)."""
    xs = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    n = len(xs)
    if n == 0:
        return {"mean": None, "sd": None, "low": None, "high": None, "n": 0}
    mean = statistics.fmean(xs)
    if n == 1:
        return {"mean": mean, "sd": None, "low": None, "high": None, "n": 1}
    sd = statistics.stdev(xs)
    half = float(sps.t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)
    return {"mean": mean, "sd": sd, "low": mean - half, "high": mean + half, "n": n}


def seeds_needed(sd: float, margin: float, confidence: float = 0.95, power: float = 0.8,
                 limit: int = 10_000) -> int | None:
    """Paired runs (seeds, or weeks on a real line) needed to detect a mean difference ``margin``.

    Student-t, not z: the smallest n ≥ 2 with n ≥ ((t_{1−α/2, n−1} + t_{power, n−1}) · sd / margin)²,
    found by iteration because the t quantiles depend on n. ``None`` if beyond ``limit``.
    """
    if sd is None or margin <= 0:
        return None
    for n in range(2, limit + 1):
        t = sps.t.ppf(0.5 + confidence / 2, n - 1) + sps.t.ppf(power, n - 1)
        if n >= (t * sd / margin) ** 2:
            return n
    return None


def parts_needed(defect_rate: float, reduction: float, confidence: float = 0.95, power: float = 0.8) -> int:
    """Parts to inspect in each period (baseline and pilot) to detect a relative defect-rate ``reduction``.

    Two-proportion z-test, two-sided: n = (z_a·√(2·p̄(1−p̄)) + z_b·√(p0(1−p0) + p1(1−p1)))² / (p0 − p1)²,
    with p1 = p0·(1 − reduction). Assumes independent parts; see docs/pilot.md for clustering.
    """
    if not 0 < defect_rate < 1 or not 0 < reduction < 1:
        raise ValueError("defect_rate and reduction must be between 0 and 1")
    p0, p1 = defect_rate, defect_rate * (1 - reduction)
    pbar = (p0 + p1) / 2
    za, zb = sps.norm.ppf(0.5 + confidence / 2), sps.norm.ppf(power)
    num = za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(p0 * (1 - p0) + p1 * (1 - p1))
    return math.ceil(num ** 2 / (p0 - p1) ** 2)
