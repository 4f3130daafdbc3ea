"""Small seeded synthetic CNC history in the import format, for tests and benchmarks.

Not the plant simulator (``simulators/``): just enough physics-shaped behaviour (tool wear
raising power and vibration, bearing damage growing exponentially, a clogging coolant
filter) that a model has something real to learn and a rule has something to catch.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

T0 = datetime(2026, 1, 5, tzinfo=UTC)
MODES = ("tool_wear", "spindle_bearing", "coolant")


def _life(rng: np.random.Generator, mode: str, hours_per_step: float) -> float:
    """Per-step damage increment drawn for a new component (1.0 = failure)."""
    mean_h = {"tool_wear": 30.0, "spindle_bearing": 120.0, "coolant": 80.0}[mode]
    return hours_per_step / (mean_h * rng.uniform(0.6, 1.6))


def _machine(machine_id: str, steps: int, period_s: float,
             rng: np.random.Generator) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    h = period_s / 3600.0
    damage = {m: rng.uniform(0, 0.5) for m in MODES}
    rate = {m: _life(rng, m, h) for m in MODES}
    sig = {k: np.empty(steps) for k in ("spindle_speed_rpm", "spindle_power_kw", "spindle_vibration_rms_mm_s",
                                        "spindle_bearing_temp_c", "coolant_pressure_bar")}
    state = np.empty(steps, dtype=object)
    events: list[dict[str, Any]] = []
    down = 0
    failed = ""  # the mode that failed last: set at each failure, read when its repair ends
    speed = 8000.0
    for i in range(steps):
        ts = T0 + pd.Timedelta(seconds=i * period_s)
        if down > 0:
            down -= 1
            state[i] = "down"
            for k in sig:
                sig[k][i] = np.nan
            if down == 0:
                events.append(dict(kind="maintenance_done", ts=ts, component=failed, planned=False,
                                   action="repair", reason="corrective"))
            continue
        if i % 120 == 0:  # program change: a new operating condition every 2 h
            speed = rng.choice([6000.0, 8000.0, 10000.0])
        tool, bear, cool = (damage[m] for m in MODES)
        bear_eff = np.expm1(3 * bear) / np.expm1(3)
        state[i] = "running"
        sig["spindle_speed_rpm"][i] = speed + rng.normal(0, 20)
        sig["spindle_power_kw"][i] = speed / 1000 * (1 + 0.35 * tool ** 2) + rng.normal(0, 0.25)
        sig["spindle_vibration_rms_mm_s"][i] = 1.0 + 0.3 * tool + 4 * bear_eff + rng.normal(0, 0.15)
        sig["spindle_bearing_temp_c"][i] = 35 + speed / 2000 + 15 * bear_eff + rng.normal(0, 0.5)
        sig["coolant_pressure_bar"][i] = 10 - 3 * cool ** 2 + rng.normal(0, 0.2)
        if i % 5 == 4:
            good = rng.random() > 0.02 + 0.5 * max(0.0, tool - 0.7)
            events.append(dict(kind="part_completed", ts=ts, good=bool(good),
                               defect_type=None if good else "roughness", cycle_time_s=300.0))
        for m in MODES:
            damage[m] += rate[m] * (1 + 0.2 * (speed - 8000) / 2000)
            if damage[m] >= 1.0:
                failed = m
                events.append(dict(kind="failure", ts=ts, mode=m, component=m))
                damage[m], rate[m] = 0.0, _life(rng, m, h)
                down = int(rng.integers(30, 120))
                break
    return sig | {"state": state}, events


def synthetic_history(n_machines: int = 4, days: float = 10, period_s: float = 60.0, seed: int = 0,
                      line: str = "line-1") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(telemetry, events) tables for ``n_machines`` CNC machines over ``days``."""
    rng = np.random.default_rng(seed)
    steps = int(days * 86400 / period_s)
    ts = pd.date_range(T0, periods=steps, freq=pd.Timedelta(seconds=period_s))
    tel, evs = [], []
    for k in range(n_machines):
        mid = f"{line}/cnc-{k + 1:02d}"
        sig, events = _machine(mid, steps, period_s, rng)
        tel.append(pd.DataFrame({"machine_id": mid, "ts": ts, **sig}))
        for j, e in enumerate(events):
            e.update(machine_id=mid, event_id=f"{mid}:{e['kind']}:{j}")
        evs += events
    telemetry = pd.concat(tel, ignore_index=True)
    cols = ["event_id", "machine_id", "ts", "kind", "mode", "component", "good", "defect_type", "planned",
            "action", "reason", "cycle_time_s"]
    events = pd.DataFrame(evs).reindex(columns=cols).sort_values(["machine_id", "ts"], kind="stable")
    return telemetry, events.reset_index(drop=True)
