"""Additive totals per machine: times, counts, energy, costs' raw inputs.

Ratios (OEE, MTBF, defect rate...) are computed from summed totals, never by averaging
per-machine ratios, so a line's figure equals the figure of its machines pooled.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd

from pipelines.kpis.events import EventFrames
from pipelines.kpis.prices import KpiOptions

STATES = ("running", "idle", "setup", "down", "maintenance", "offline")


@dataclass
class Totals:
    """Sums over one machine (or a pool of machines) and one time range; all additive."""

    machines: int = 0
    range_s: float = 0.0
    running_s: float = 0.0
    idle_s: float = 0.0
    setup_s: float = 0.0
    down_s: float = 0.0
    maintenance_s: float = 0.0
    offline_s: float = 0.0
    ideal_output_s: float = 0.0
    parts: int = 0
    good_parts: int = 0
    energy_kwh: float = 0.0
    failures: int = 0
    planned_actions: int = 0
    repairs: int = 0
    parts_cost: float = 0.0
    maintenance_work_s: float = 0.0
    lost_parts: float = 0.0
    alerts_raised: int = 0
    alerts_true: int = 0
    failures_alerted: int = 0
    lead_times_h: list[float] = field(default_factory=list)
    state_source: str = "states"

    def __add__(self, other: Totals) -> Totals:
        out = Totals()
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if f.name == "state_source":
                setattr(out, f.name, a if a == b or other.machines == 0 else ("mixed" if self.machines else b))
            else:
                setattr(out, f.name, a + b)
        return out


def _in_range(frame: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    return frame[(frame["ts"] >= start) & (frame["ts"] < end)]


def state_durations(states: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> dict[str, float] | None:
    """Seconds in each state within [start, end) from one machine's state changes, or None if it has none."""
    if states.empty:
        return None
    before = states[states["ts"] < start]
    inside = states[(states["ts"] >= start) & (states["ts"] < end)]
    if not before.empty:
        initial = before["to_state"].iloc[-1]
    elif not inside.empty:
        initial = inside["from_state"].iloc[0]
    else:
        return None
    times = [start, *inside["ts"].tolist(), end]
    labels = [initial, *inside["to_state"].tolist()]
    spans = np.diff(np.array([t.value for t in times], dtype=np.int64)) / 1e9
    out = dict.fromkeys(STATES, 0.0)
    for label, span in zip(labels, spans, strict=False):
        out[label if label in out else "idle"] += float(span)
    return out


def _times(frames: EventFrames, start: pd.Timestamp, end: pd.Timestamp, total: Totals,
           maint: pd.DataFrame) -> None:
    durations = state_durations(frames.states, start, end)
    if durations is None:  # no state log: downtime from the maintenance durations, the rest running
        total.state_source = "maintenance_durations"
        durations = dict.fromkeys(STATES, 0.0)
        durations["down"] = float(maint.loc[~maint["planned"], "duration_s"].sum())
        durations["maintenance"] = float(maint.loc[maint["planned"], "duration_s"].sum())
        durations["running"] = max(0.0, total.range_s - durations["down"] - durations["maintenance"])
    for state, seconds in durations.items():
        setattr(total, f"{state}_s", seconds)


def _ns(stamps: pd.Series) -> np.ndarray:
    ns: np.ndarray = stamps.dt.tz_convert(None).astype("datetime64[ns]").to_numpy().astype(np.int64)
    return ns


def _alert_match(frames: EventFrames, failures: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp,
                 options: KpiOptions, total: Totals) -> None:
    window = pd.Timedelta(hours=options.alert_window_hours)
    alerts = _in_range(frames.alerts, start, end)
    fail_ts = _ns(failures["ts"])
    fail_modes = failures["mode"].astype(str).to_numpy()
    total.alerts_raised = len(alerts)
    for ts, mode in zip(_ns(alerts["ts"]), alerts["mode"].astype(str), strict=True):
        hit = (fail_ts > ts) & (fail_ts <= ts + window.value)
        if options.match_alert_mode:
            hit &= fail_modes == mode
        total.alerts_true += int(hit.any())
    # recall and lead time: alerts raised up to one window before a failure count, even before `start`
    all_alerts = frames.alerts
    for ts, mode in zip(failures["ts"], fail_modes, strict=False):
        mask = (all_alerts["ts"] < ts) & (all_alerts["ts"] >= ts - window)
        if options.match_alert_mode:
            mask &= all_alerts["mode"].astype(str) == mode
        earlier = all_alerts.loc[mask, "ts"]
        if not earlier.empty:
            total.failures_alerted += 1
            total.lead_times_h.append((ts - earlier.min()).total_seconds() / 3600.0)


def machine_totals(frames: EventFrames, start: pd.Timestamp, end: pd.Timestamp, options: KpiOptions) -> Totals:
    """Totals for the frames of one machine (already filtered to it) over [start, end)."""
    total = Totals(machines=1, range_s=(end - start).total_seconds())
    parts = _in_range(frames.parts, start, end)
    failures = _in_range(frames.failures, start, end)
    maint = _in_range(frames.maintenance, start, end)
    _times(frames, start, end, total, maint)
    total.parts = len(parts)
    total.good_parts = int(parts["good"].sum())
    total.ideal_output_s = float(parts["ideal_cycle_time_s"].sum())
    total.energy_kwh = float(parts["energy_kwh"].sum())
    total.failures = len(failures)
    total.planned_actions = int(maint["planned"].sum())
    total.repairs = int((~maint["planned"]).sum())
    total.parts_cost = float(maint["parts_cost"].sum())
    total.maintenance_work_s = float(maint["duration_s"].sum())
    ideal = frames.parts["ideal_cycle_time_s"]  # whole history: the machine's rate even if it made nothing now
    if not ideal.empty:
        total.lost_parts = (total.down_s + total.maintenance_s) / float(ideal.median())
    _alert_match(frames, failures, start, end, options, total)
    return total


def by_machine(frames: EventFrames, machines: list[str]) -> dict[str, EventFrames]:
    """The frames split per machine (one pass per frame, not one filter per machine)."""
    parts = []
    for frame in (frames.parts, frames.failures, frames.maintenance, frames.states, frames.alerts):
        groups = {key: sub for key, sub in frame.groupby("machine_id", sort=False)} if not frame.empty else {}
        parts.append({m: groups.get(m, frame.iloc[0:0]) for m in machines})
    return {m: EventFrames(*(p[m] for p in parts)) for m in machines}
