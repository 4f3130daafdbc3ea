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
   t_f their downtimes. With scrap and energy priced, the numerator also holds the running
   cost of a wearing component, ∫₀ᵀ c(t)·S(t) dt, where c(t) is the excess scrap and energy
   cost per hour at age t measured in the same history (:func:`running_cost_curves`).
   T* = argmin g over the observed failure ages; when no T beats run to
   failure (g(∞) = C_f / (MTTF + t_f)), the mode gets no interval.

The CMMS ages are running hours; the plan's clock is calendar time, so they are divided by
the running share of the machine kind measured in the same training history.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sklearn.isotonic import isotonic_regression

from contracts import FailureOccurred, MaintenanceDone, PartCompleted, StateChanged
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


def running_cost_curves(events: Iterable[object], ages_h: dict[tuple[str, str], float], plant: Plant,
                        start: datetime, end: datetime, share: dict[str, float], bins: int = 10,
                        healthy_quantile: float = 0.1) -> dict[str, dict]:
    """Per mode, from one history: how scrap and energy per part grow with the component's age.

    Each part is placed at the calendar age of every component of its machine (CMMS age at the
    start, restarted at each restoration). Per mode, the parts are cut into ``bins``
    equal-count age bins; per bin the defect rate and the energy per part above the machine's
    healthy level (the ``healthy_quantile`` of its power per program over the history), less the
    first bin's, fitted non-decreasing (a wearing component never gets better) and clipped at 0.
    ``quality_share`` / ``energy_share``: each mode's share of its machine kind's life-averaged
    excess (the part of a machine's excess the predictive rule charges to that mode).
    """
    machines = {m.id: m for m in plant.machines()}
    origin: dict[tuple[str, str], tuple[datetime, float]] = {}
    for m in machines.values():
        for mode in m.failure_modes:
            origin[(m.id, mode)] = (start, ages_h.get((m.id, mode), 0.0) / max(share.get(m.kind, 1.0), 1e-6))
    rows: dict[str, list[tuple[float, float, float, float, str, float]]] = {}  # age, bad, kW, cycle, machine, ideal
    for e in sorted((e for e in events if isinstance(e, (PartCompleted, MaintenanceDone))), key=lambda e: e.ts):
        if e.machine_id not in machines:
            continue
        if isinstance(e, MaintenanceDone):
            for mode, component in MODE_COMPONENT.items():
                if component == e.component and (e.machine_id, mode) in origin:
                    origin[(e.machine_id, mode)] = (e.ts, 0.0)
            continue
        if e.cycle_time_s <= 0:
            continue
        kw = e.energy_kwh * 3600.0 / e.cycle_time_s
        for mode in machines[e.machine_id].failure_modes:
            t0, entry = origin[(e.machine_id, mode)]
            rows.setdefault(mode, []).append((entry + _h(e.ts - t0), 0.0 if e.good else 1.0, kw, e.cycle_time_s,
                                              e.machine_id, e.ideal_cycle_time_s))
    span_h = max(_h(end - start), 1e-9)
    out: dict[str, dict] = {}
    for mode, r in sorted(rows.items()):
        age = np.array([x[0] for x in r])
        bad = np.array([x[1] for x in r])
        kw = np.array([x[2] for x in r])
        cyc = np.array([x[3] for x in r])
        prog = [(x[4], x[5]) for x in r]
        healthy: dict[tuple[str, float], float] = {}
        for key in set(prog):
            sel = np.array([p == key for p in prog])
            healthy[key] = float(np.quantile(kw[sel], healthy_quantile))
        kwh = np.maximum(0.0, kw - np.array([healthy[p] for p in prog])) * cyc / 3600.0
        order = np.argsort(age, kind="stable")
        groups = [g for g in np.array_split(order, min(bins, len(order))) if len(g)]
        n = np.array([len(g) for g in groups], dtype=float)
        d = isotonic_regression(np.array([bad[g].mean() for g in groups]), sample_weight=n)
        k = isotonic_regression(np.array([kwh[g].mean() for g in groups]), sample_weight=n)
        machines_of_mode = {x[4] for x in r}
        out[mode] = {"age_h": [round(float(age[g].max()), 3) for g in groups],
                     "excess_defect": [round(float(v), 6) for v in np.maximum(0.0, d - d[0])],
                     "excess_kwh_per_part": [round(float(v), 6) for v in np.maximum(0.0, k - k[0])],
                     "parts": [int(x) for x in n],
                     "parts_per_h": round(len(r) / (len(machines_of_mode) * span_h), 3)}
    kinds = {mode: m.kind for m in machines.values() for mode in m.failure_modes}
    for field_name, share_name in (("excess_defect", "quality_share"), ("excess_kwh_per_part", "energy_share")):
        mean = {mode: float(np.average(c[field_name], weights=c["parts"])) for mode, c in out.items()}
        for mode, c in out.items():
            total = sum(v for m2, v in mean.items() if kinds.get(m2) == kinds.get(mode))
            c[share_name] = round(mean[mode] / total, 4) if total > 0 else 0.0
    return out


def running_cost_rate(curve: dict | None, scrap_per_defect: float, energy_per_kwh: float) -> Callable[[float], float]:
    """c(t): excess scrap + energy cost per calendar hour at age t (CNY/h) from a :func:`running_cost_curves` entry."""
    if not curve or (scrap_per_defect <= 0 and energy_per_kwh <= 0):
        return lambda t: 0.0
    edges = np.array(curve["age_h"], dtype=float)
    per_part = (np.array(curve["excess_defect"]) * scrap_per_defect
                + np.array(curve["excess_kwh_per_part"]) * energy_per_kwh)
    rate = per_part * float(curve["parts_per_h"])

    def c(t: float) -> float:
        i = min(int(np.searchsorted(edges, t, side="left")), len(rate) - 1)
        return float(rate[i])

    return c


def age_replacement(lives: Lives, c_plan: float, c_fail: float, t_plan_h: float, t_fail_h: float,
                    running: Callable[[float], float] | None = None) -> dict:
    """Optimal replacement age T* (calendar hours) and the cost rates behind the choice.

    ``running``: c(t), the excess running cost per hour at age t (scrap, energy); none = 0.
    """
    times, surv = kaplan_meier(lives)
    if len(times) < 2:
        return {"interval_h": None,
                "reason": f"{len(times)} failure age(s) in the training history: nothing to optimise",
                "failures": lives.failures}
    horizon = float(times[-1])
    if running is not None:
        grid_u = np.linspace(0.0, horizon, 4001)
        cs = np.array([running(float(u)) * _survival_at(times, surv, float(u)) for u in grid_u])
        cum = np.concatenate([[0.0], np.cumsum((cs[1:] + cs[:-1]) / 2 * np.diff(grid_u))])
    else:
        grid_u, cum = np.array([0.0, horizon]), np.zeros(2)

    def rate(t: float) -> float:
        s = _survival_at(times, surv, t)
        spent = float(np.interp(t, grid_u, cum))
        return (c_plan * s + c_fail * (1 - s) + spent) / (
            _integral(times, surv, t) + t_plan_h * s + t_fail_h * (1 - s))

    s_end = _survival_at(times, surv, horizon)
    mttf = _integral(times, surv, horizon)  # restricted mean: censored tail not extrapolated
    rtf = (c_fail + float(cum[-1])) / (mttf + t_fail_h) if s_end == 0 else rate(horizon)
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
