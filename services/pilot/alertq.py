"""Alert quality of the shadow-scored run-to-failure arm, beside two baselines on the same runs.

In the run-to-failure arm nobody acts on alerts, so every failure runs its course and an
alert can be judged against what really followed. Matching is per machine **and mode**:

- precision: raised alerts followed by a failure of the same machine and mode within W;
- recall: failures with a same-mode alert on that machine in the W before them;
- lead: failure time − the earliest such alert (median over detected failures).

Baselines, same runs and same W:

- **no-skill periodic alerter at the same alert rate**: for mode m with N model alerts over
  M machines and S hours, exactly N alerts, one every S/N hours taking the machines in turn
  (each machine every M·S/N hours); the figures are averaged over 4 evenly spaced phases so
  no lucky phase decides;
- **fixed-limit rule** (``LimitRule``): a short-window mean of a signal outside the plant
  file's normal range raises an alert of the mode that signal watches.

ISA-18.2 / EEMUA 191 figures for an alert stream (:func:`alarm_figures`): alerts per
operator-hour, share of 10-minute windows in flood (> 10 alerts), chattering alerts (the same
machine and mode raised again within 1 h of its previous raise), stale alerts (open > 24 h)
and the priority split.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from contracts import AlertAction, AlertEvent, FailureOccurred, TelemetrySample
from contracts.plant import Plant

#: Which failure mode a fixed limit on a signal is configured for (a plant's classic alarm list).
SIGNAL_MODE = {
    "spindle_torque_nm": "tool_wear", "spindle_power_kw": "tool_wear",
    "spindle_vibration_rms_mm_s": "spindle_bearing", "spindle_bearing_temp_c": "spindle_bearing",
    "coolant_pressure_bar": "coolant", "coolant_flow_l_min": "coolant", "coolant_temp_c": "coolant",
    "joint2_torque_nm": "reducer_wear", "joint2_temp_c": "reducer_wear", "joint2_current_a": "reducer_wear",
    "gripper_pressure_bar": "gripper_leak", "gripper_close_time_ms": "gripper_leak",
    "joint3_temp_c": "servo_overheat", "joint3_current_a": "servo_overheat",
}


@dataclass
class LimitRule:
    """Fixed-limit alerting: mean of the last ``window`` running samples outside the normal range.

    Raise after ``raise_after`` consecutive out-of-range evaluations (one per ``every`` samples),
    clear after ``clear_after`` in range, one open alert per machine and mode: the same
    hysteresis as the model's alert rules.
    """

    plant: Plant
    window: int = 10
    every: int = 10
    raise_after: int = 2
    clear_after: int = 3
    name: str = "fixed-limit rule (plant-file normal ranges)"
    alerts: list[AlertEvent] = field(default_factory=list)
    _buf: dict[tuple[str, str], deque] = field(default_factory=dict, init=False)
    _n: dict[str, int] = field(default_factory=dict, init=False)
    _state: dict[tuple[str, str], list] = field(default_factory=dict, init=False)  # [above, below, open id]

    def __post_init__(self) -> None:
        self._limits = {m.id: {s.name: (s.normal_low, s.normal_high) for s in m.sensors
                               if s.name in SIGNAL_MODE and s.normal_low is not None and s.normal_high is not None
                               and SIGNAL_MODE[s.name] in m.failure_modes}
                        for m in self.plant.machines()}

    def feed(self, samples: list[TelemetrySample]) -> None:
        for s in samples:
            limits = self._limits.get(s.machine_id)
            if not limits or s.state.value != "running":
                continue
            outside: dict[str, bool] = {}
            n = self._n[s.machine_id] = self._n.get(s.machine_id, 0) + 1
            for name, (lo, hi) in limits.items():
                v = s.signals.get(name)
                if v is None:
                    continue
                buf = self._buf.setdefault((s.machine_id, name), deque(maxlen=self.window))
                buf.append(v)
                if n % self.every == 0 and len(buf) == self.window:
                    mean = sum(buf) / self.window
                    mode = SIGNAL_MODE[name]
                    outside[mode] = outside.get(mode, False) or not lo <= mean <= hi
            for mode, out in outside.items():
                self._step(s, mode, out)

    def _step(self, s: TelemetrySample, mode: str, out: bool) -> None:
        st = self._state.setdefault((s.machine_id, mode), [0, 0, None])
        st[0] = st[0] + 1 if out else 0
        st[1] = 0 if out else st[1] + 1
        if st[2] is None and st[0] >= self.raise_after:
            st[2] = f"{s.machine_id}|{mode}|rule|{s.ts.isoformat()}"
            self.alerts.append(AlertEvent(alert_id=st[2], machine_id=s.machine_id, ts=s.ts,
                                          action=AlertAction.RAISED, mode=mode, priority="medium",
                                          probability=1.0, model_version="fixed-limit-rule"))
        elif st[2] is not None and st[1] >= self.clear_after:
            st[2] = None


def _raised(alerts: Iterable[AlertEvent]) -> list[tuple[str, str, datetime]]:
    return [(a.machine_id, a.mode, a.ts) for a in alerts if a.action == AlertAction.RAISED]


def match(raised: list[tuple[str, str, datetime]], failures: list[tuple[str, str, datetime]],
          window_h: dict[str, float], start: datetime, end: datetime, modes: Iterable[str] = ()) -> dict[str, dict]:
    """Per-mode counts: alerts, true alerts, failures, detected failures, lead times (hours)."""
    fails: dict[tuple[str, str], np.ndarray] = {}
    for mid, mode, ts in failures:
        fails.setdefault((mid, mode), []).append(ts.timestamp())  # type: ignore[attr-defined]
    fails = {k: np.sort(np.array(v)) for k, v in fails.items()}
    alerts: dict[tuple[str, str], list[float]] = {}
    for mid, mode, ts in raised:
        alerts.setdefault((mid, mode), []).append(ts.timestamp())
    out: dict[str, dict] = {}
    for mode in sorted(set(modes) | {m for _, m, _ in failures} | {m for _, m, _ in raised}):
        out[mode] = {"alerts": 0, "true": 0, "failures": 0, "detected": 0, "leads_h": []}
    t0, t1 = start.timestamp(), end.timestamp()
    for (mid, mode), ts_list in alerts.items():
        w = window_h.get(mode, 24.0) * 3600.0
        f = fails.get((mid, mode), np.array([]))
        for t in ts_list:
            if t0 <= t < t1:
                out[mode]["alerts"] += 1
                out[mode]["true"] += int(((f > t) & (f <= t + w)).any())
    for (mid, mode), f in fails.items():
        w = window_h.get(mode, 24.0) * 3600.0
        a = np.array(sorted(alerts.get((mid, mode), [])))
        for t in f:
            if not t0 <= t < t1:
                continue
            out[mode]["failures"] += 1
            before = a[(a < t) & (a >= t - w)] if len(a) else a
            if len(before):
                out[mode]["detected"] += 1
                out[mode]["leads_h"].append(float((t - before.min()) / 3600.0))  # plain float: JSON
    return out


def periodic(machines_by_mode: dict[str, list[str]], n_alerts: dict[str, int], start: datetime, end: datetime,
             phases: int = 4) -> list[list[tuple[str, str, datetime]]]:
    """The no-skill alerter at the same alert count per mode, for each of ``phases`` phases."""
    span_h = (end - start).total_seconds() / 3600.0
    out = []
    for k in range(phases):
        raised = []
        for mode, machines in machines_by_mode.items():
            n = n_alerts.get(mode, 0)
            if n <= 0 or not machines:
                continue
            gap = span_h / n  # alert j at (j + phase)·gap on machine j mod M: every machine every M·gap hours
            for j in range(n):
                t = (j + (k + 0.5) / phases) * gap
                raised.append((machines[j % len(machines)], mode, start + timedelta(hours=t)))
        out.append(raised)
    return out


def figures(counts: dict) -> dict:
    """Precision, recall, median lead from per-mode counts (None when undefined)."""
    return {"alerts": counts["alerts"], "failures": counts["failures"],
            "precision": counts["true"] / counts["alerts"] if counts["alerts"] else None,
            "recall": counts["detected"] / counts["failures"] if counts["failures"] else None,
            "median_lead_h": float(statistics.median(counts["leads_h"])) if counts["leads_h"] else None}


def _sum(parts: list[dict]) -> dict:
    out = {"alerts": 0, "true": 0, "failures": 0, "detected": 0, "leads_h": []}
    for p in parts:
        for k in out:
            out[k] = out[k] + p[k]
    return out


def quality(model_alerts: list[AlertEvent], rule_alerts: list[AlertEvent], events: list[object], plant: Plant,
            start: datetime, end: datetime, window_h: dict[str, float]) -> dict[str, dict]:
    """Per-mode raw counts of the model, the rule and the periodic alerter (phases pooled) on one run."""
    failures = [(e.machine_id, e.mode, e.ts) for e in events if isinstance(e, FailureOccurred)]
    machines: dict[str, list[str]] = {}
    for m in plant.machines():
        for mode in m.failure_modes:
            machines.setdefault(mode, []).append(m.id)
    model = match(_raised(model_alerts), failures, window_h, start, end, machines)
    rule = match(_raised(rule_alerts), failures, window_h, start, end, machines)
    n = {mode: c["alerts"] for mode, c in model.items()}
    phase_counts = [match(r, failures, window_h, start, end, machines) for r in periodic(machines, n, start, end)]
    out = {}
    for mode in sorted(machines):
        ph = [p[mode] for p in phase_counts]
        noskill = {"alerts": sum(p["alerts"] for p in ph) / len(ph), "true": sum(p["true"] for p in ph) / len(ph),
                   "failures": model[mode]["failures"], "detected": sum(p["detected"] for p in ph) / len(ph),
                   "leads_h": sorted(x for p in ph for x in p["leads_h"])}
        out[mode] = {"model": model[mode], "rule": rule[mode], "no_skill": noskill,
                     "line": machines[mode][0].split("/")[0]}
    return out


def summarise(per_seed: list[dict[str, dict]], planning_lead_h: dict[str, float]) -> dict:
    """Per mode and per line: figures of the model, no-skill and rule alerters pooled over seeds."""
    modes = sorted({m for s in per_seed for m in s})
    out: dict = {"modes": {}, "lines": {}}
    lines: dict[str, dict[str, list]] = {}
    for mode in modes:
        rows = [s[mode] for s in per_seed if mode in s]
        entry = {who: figures(_sum([r[who] for r in rows])) for who in ("model", "no_skill", "rule")}
        line = rows[0]["line"]
        entry["line"] = line
        entry["planning_lead_h"] = planning_lead_h.get(mode)
        p, base = entry["model"]["precision"], entry["no_skill"]["precision"]
        entry["precision_gain_over_no_skill"] = None if p is None or base is None else p - base
        lead = entry["model"]["median_lead_h"]
        entry["checks"] = {
            "precision_at_least_0.2_above_no_skill": None if entry["precision_gain_over_no_skill"] is None
            else entry["precision_gain_over_no_skill"] >= 0.2,
            "recall_at_least_0.6": None if entry["model"]["recall"] is None else entry["model"]["recall"] >= 0.6,
            "median_lead_at_least_planning_lead": None if lead is None or mode not in planning_lead_h
            else lead >= planning_lead_h[mode]}
        out["modes"][mode] = entry
        for who in ("model", "no_skill", "rule"):
            lines.setdefault(line, {}).setdefault(who, []).extend(r[who] for r in rows)
    for line, by in sorted(lines.items()):
        out["lines"][line] = {who: figures(_sum(v)) for who, v in by.items()}
    return out


def alarm_figures(alerts: list[AlertEvent], start: datetime, end: datetime, operators: int = 1) -> dict:
    """ISA-18.2 / EEMUA 191 figures of an alert stream (raises only; see the module docstring)."""
    raised = sorted((a for a in alerts if a.action == AlertAction.RAISED), key=lambda a: a.ts)
    hours = max((end - start).total_seconds() / 3600.0, 1e-9)
    windows = max(int(hours * 6), 1)
    per_window: dict[int, int] = {}
    for a in raised:
        i = int((a.ts - start).total_seconds() // 600)
        per_window[i] = per_window.get(i, 0) + 1
    last: dict[tuple[str, str], datetime] = {}
    chattering = 0
    for a in raised:
        key = (a.machine_id, a.mode)
        if key in last and a.ts - last[key] <= timedelta(hours=1):
            chattering += 1
        last[key] = a.ts
    closed = {a.alert_id: a.ts for a in alerts if a.action == AlertAction.CLEARED}
    stale = sum(1 for a in raised if (closed.get(a.alert_id, end) - a.ts) > timedelta(hours=24))
    split: dict[str, int] = {}
    for a in raised:
        split[a.priority] = split.get(a.priority, 0) + 1
    return {"alerts": len(raised), "alerts_per_operator_hour": len(raised) / hours / operators,
            "flood_window_share": sum(1 for v in per_window.values() if v > 10) / windows,
            "chattering_alerts": chattering, "stale_alerts": stale,
            "priority_split": {k: v / len(raised) for k, v in sorted(split.items())} if raised else {}}
