"""The preventive baseline a reliability engineer would set up: the classic age-replacement policy.

For each failure mode, from run-to-failure history on *training seeds* (never a pilot seed):

1. Lives in calendar hours from fitting to failure. Each component's first interval is
   left-truncated (it was fitted before the history starts, at the age its CMMS record
   gives); intervals still running at the end are right-censored. The survival function
   S(t) is the Kaplan–Meier estimate with delayed entry (risk set at t: components that
   entered before t and had not yet failed or been censored).
2. The long-run cost rate of replacing at age T or at failure, whichever comes first
   (Barlow & Proschan's age-replacement policy):

       g(T) = (C_p·S(T) + C_f·(1 − S(T))) / (∫₀ᵀ S(t) dt + t_p·S(T) + t_f·(1 − S(T)))

   with C_p, C_f the planned and corrective cost of one action (the rate card and the
   stop cost per hour, exactly as the predictive arm's decision rule prices them) and t_p,
   t_f their downtimes. T* = argmin g over the observed failure ages; when no T beats run to
   failure (g(∞) = C_f / (MTTF + t_f)), the mode gets no interval.

The CMMS ages are running hours; the plan's clock is calendar time, so they are divided by
the running share of the machine kind measured in the same training history.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from contracts import FailureOccurred, MaintenanceDone, StateChanged
from contracts.plant import MODE_COMPONENT, Plant


@dataclass(frozen=True)
class Lives:
    """Observed component lives of one mode: entry age, exit age (calendar hours), failed or censored."""

    entry: np.ndarray
    exit: np.ndarray
    failed: np.ndarray

    @property
    def failures(self) -> int:
        return int(self.failed.sum())


def running_share(events: Iterable[object], plant: Plant, start: datetime, end: datetime) -> dict[str, float]:
    """Share of calendar time each machine kind spent running (machines start running), from state events."""
    kinds = {m.id: m.kind for m in plant.machines()}
    last = {mid: (start, "running") for mid in kinds}
    run_s = {mid: 0.0 for mid in kinds}
    for e in events:
        if isinstance(e, StateChanged) and e.machine_id in kinds:
            t0, state = last[e.machine_id]
            if state == "running":
                run_s[e.machine_id] += (e.ts - t0).total_seconds()
            last[e.machine_id] = (e.ts, str(getattr(e.to_state, "value", e.to_state)))
    for mid, (t0, state) in last.items():
        if state == "running":
            run_s[mid] += (end - t0).total_seconds()
    span = (end - start).total_seconds()
    out: dict[str, list[float]] = {}
    for mid, s in run_s.items():
        out.setdefault(kinds[mid], []).append(s / span)
    return {k: float(np.mean(v)) for k, v in sorted(out.items())}


def observed_lives(events: list[object], ages_h: dict[tuple[str, str], float], plant: Plant, start: datetime,
                   end: datetime, share: dict[str, float]) -> dict[str, Lives]:
    """Lives per mode from one run-to-failure history; ``ages_h`` is the CMMS record at ``start``."""
    fitted: dict[tuple[str, str], tuple[datetime, float]] = {}  # key -> (clock origin, entry age h)
    for machine in plant.machines():  # a line without a CMMS record: components counted as new at the start
        for mode in machine.failure_modes:
            age = ages_h.get((machine.id, mode), 0.0)
            fitted[(machine.id, mode)] = (start, age / max(share.get(machine.kind, 1.0), 1e-6))
    rows: dict[str, list[tuple[float, float, bool]]] = {}
    failed_now: set[tuple[str, str]] = set()
    for e in sorted((e for e in events if isinstance(e, (FailureOccurred, MaintenanceDone))), key=lambda e: e.ts):
        if isinstance(e, FailureOccurred):
            key = (e.machine_id, e.mode)
            if key in fitted and key not in failed_now:
                origin, entry = fitted[key]
                rows.setdefault(e.mode, []).append((entry, entry + _h(e.ts - origin), True))
                failed_now.add(key)
        else:
            for mode, component in MODE_COMPONENT.items():
                key = (e.machine_id, mode)
                if component == e.component and key in fitted:
                    if key not in failed_now:  # restored before failing: censored at that age
                        origin, entry = fitted[key]
                        rows.setdefault(mode, []).append((entry, entry + _h(e.ts - origin), False))
                    failed_now.discard(key)
                    fitted[key] = (e.ts, 0.0)
    for key, (origin, entry) in fitted.items():
        if key not in failed_now:
            rows.setdefault(key[1], []).append((entry, entry + _h(end - origin), False))
    return {mode: Lives(np.array([r[0] for r in v]), np.array([r[1] for r in v]), np.array([r[2] for r in v]))
            for mode, v in sorted(rows.items())}


def _h(delta) -> float:
    return delta.total_seconds() / 3600.0


def pooled(parts: Iterable[dict[str, Lives]]) -> dict[str, Lives]:
    """Lives of several histories pooled per mode."""
    out: dict[str, list[Lives]] = {}
    for p in parts:
        for mode, lives in p.items():
            out.setdefault(mode, []).append(lives)
    return {m: Lives(np.concatenate([x.entry for x in v]), np.concatenate([x.exit for x in v]),
                     np.concatenate([x.failed for x in v])) for m, v in sorted(out.items())}


def kaplan_meier(lives: Lives) -> tuple[np.ndarray, np.ndarray]:
    """Failure ages and S just after each (product-limit estimate with delayed entry)."""
    times = np.unique(lives.exit[lives.failed])
    surv, s = [], 1.0
    for t in times:
        at_risk = int(((lives.entry < t) & (lives.exit >= t)).sum())
        deaths = int(((lives.exit == t) & lives.failed).sum())
        if at_risk > 0:
            s *= 1.0 - deaths / at_risk
        surv.append(s)
    return times, np.array(surv)


def _survival_at(times: np.ndarray, surv: np.ndarray, t: float) -> float:
    i = int(np.searchsorted(times, t, side="right"))
    return 1.0 if i == 0 else float(surv[i - 1])


def _integral(times: np.ndarray, surv: np.ndarray, t: float) -> float:
    """∫₀ᵗ S(u) du of the KM step function."""
    edges = np.concatenate([[0.0], times[times < t], [t]])
    levels = np.concatenate([[1.0], surv[times < t]])
    return float(np.sum(np.diff(edges) * levels))


def age_replacement(lives: Lives, c_plan: float, c_fail: float, t_plan_h: float, t_fail_h: float) -> dict:
    """Optimal replacement age T* (calendar hours) and the cost rates behind the choice."""
    times, surv = kaplan_meier(lives)
    if len(times) < 2:
        return {"interval_h": None,
                "reason": f"{len(times)} failure age(s) in the training history: nothing to optimise",
                "failures": lives.failures}

    def rate(t: float) -> float:
        s = _survival_at(times, surv, t)
        return (c_plan * s + c_fail * (1 - s)) / (_integral(times, surv, t) + t_plan_h * s + t_fail_h * (1 - s))

    horizon = float(times[-1])
    s_end = _survival_at(times, surv, horizon)
    mttf = _integral(times, surv, horizon)  # restricted mean: censored tail not extrapolated
    rtf = c_fail / (mttf + t_fail_h) if s_end == 0 else rate(horizon)
    grid = np.unique(np.concatenate([times, np.quantile(times, np.linspace(0.02, 1, 50))]))
    rates = np.array([rate(float(t)) for t in grid])
    best = int(np.argmin(rates))
    out = {"failures": lives.failures, "components": int(len(lives.entry)), "c_plan": round(c_plan, 1),
           "c_fail": round(c_fail, 1), "rate_at_interval": round(float(rates[best]), 3),
           "rate_run_to_failure": round(float(rtf), 3), "median_life_h": round(float(
               times[np.searchsorted(-surv, -0.5)] if (surv <= 0.5).any() else times[-1]), 1)}
    if rates[best] >= rtf * 0.999:
        return {**out, "interval_h": None, "reason": "no interval beats run to failure at these costs"}
    return {**out, "interval_h": round(float(grid[best]), 2), "reason": "argmin of the age-replacement cost rate"}
