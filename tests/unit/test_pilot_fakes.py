"""A tiny deterministic stand-in line for testing the pilot's orchestration logic in isolation.

The real simulator is exercised by tests/integration/test_pilot*.py and the `linewatch pilot`
tests; this fake only has to produce the contract events a line reports, react to
commands and fail when a component outlives its seeded life.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from contracts import (
    AlertAction,
    AlertEvent,
    FailureOccurred,
    MaintenanceCommand,
    MaintenanceDone,
    PartCompleted,
    StateChanged,
    TelemetrySample,
)
from contracts.plant import ACTIONS, MODE_COMPONENT, Plant

CYCLE = timedelta(minutes=30)
REPAIR, SERVICE = timedelta(hours=4), timedelta(hours=1)


class FakeLine:
    """Parts every 30 min per machine; a component fails when its age passes a seeded life."""

    def __init__(self, plant: Plant, seed: int, start: datetime) -> None:
        self.plant, self.now = plant, start
        self.rng = {m.id: np.random.default_rng([seed, i]) for i, m in enumerate(plant.machines())}
        self.born = {(m.id, mode): start for m in plant.machines() for mode in m.failure_modes}
        self.life = {key: self._life(key[0]) for key in self.born}
        self.busy_until = {m.id: start for m in plant.machines()}
        self.next_part = {m.id: start + CYCLE for m in plant.machines()}
        self.pending: list[object] = []
        self.n = 0

    def _life(self, mid: str) -> timedelta:
        return timedelta(hours=float(self.rng[mid].weibull(3.0) * 120 + 20))

    def _id(self, what: str) -> str:
        self.n += 1
        return f"{what}:{self.n}"

    def _stop(self, mid: str, at: datetime, mode: str, planned: bool) -> list[object]:
        span = SERVICE if planned else REPAIR
        state = "maintenance" if planned else "down"
        self.busy_until[mid] = at + span
        self.born[(mid, mode)] = at + span
        self.life[(mid, mode)] = self._life(mid)
        self.next_part[mid] = at + span + CYCLE
        out: list[object] = [StateChanged(event_id=self._id("s"), machine_id=mid, ts=at, from_state="running",
                                          to_state=state)]
        if not planned:
            out.append(FailureOccurred(event_id=self._id("f"), machine_id=mid, ts=at, mode=mode,
                                       component=MODE_COMPONENT[mode]))
        out.append(MaintenanceDone(event_id=self._id("m"), machine_id=mid, ts=at + span, action="x",
                                   component=MODE_COMPONENT[mode], planned=planned, duration_s=span.total_seconds(),
                                   reason="preventive" if planned else "corrective", parts_cost=50 if planned else 400))
        out.append(StateChanged(event_id=self._id("s"), machine_id=mid, ts=at + span, from_state=state,
                                to_state="running"))
        return out

    def step_until(self, until: datetime) -> tuple[list[TelemetrySample], list[object]]:
        events: list[object] = [e for e in self.pending if e.ts <= until]
        self.pending = [e for e in self.pending if e.ts > until]
        samples = []
        for m in self.plant.machines():
            while self.next_part[m.id] <= until:
                at = self.next_part[m.id]
                ages = {mode: at - self.born[(m.id, mode)] for mode in m.failure_modes}
                broken = [mode for mode, age in ages.items() if age >= self.life[(m.id, mode)]]
                if broken:
                    stop = self._stop(m.id, at, broken[0], planned=False)
                    events += [e for e in stop if e.ts <= until]
                    self.pending += [e for e in stop if e.ts > until]
                    continue
                worn = max(a / self.life[(m.id, mode)] for mode, a in ages.items())
                events.append(PartCompleted(event_id=self._id("p"), machine_id=m.id, ts=at, part_id=self._id("P"),
                                            cycle_time_s=1800 * (1 + 0.1 * worn), ideal_cycle_time_s=1800,
                                            energy_kwh=1.0 + 0.5 * worn,
                                            good=bool(self.rng[m.id].random() > 0.3 * worn)))
                wear = {f"{mode}_wear_pct": 100 * ages[mode] / self.life[(m.id, mode)] for mode in ages}
                samples.append(TelemetrySample(machine_id=m.id, ts=at, seq=self.n, signals=wear))
                self.next_part[m.id] = at + CYCLE
        self.now = until
        return samples, sorted(events, key=lambda e: e.ts)

    def apply(self, command: MaintenanceCommand) -> None:
        mode = ACTIONS[command.action]
        if self.busy_until[command.machine_id] > self.now:
            return
        stop = self._stop(command.machine_id, self.now, mode, planned=True)
        self.pending += stop


class WearAlerts:
    """A stand-in alert source: raises an alert when the reported wear passes 75 %."""

    name = "fake-wear-threshold"

    def __init__(self) -> None:
        self.open: set[tuple[str, str]] = set()

    def feed(self, samples: list[TelemetrySample], events: list[object]) -> list[AlertEvent]:
        out = []
        for e in events:
            if isinstance(e, MaintenanceDone):
                self.open = {k for k in self.open if k[0] != e.machine_id or MODE_COMPONENT[k[1]] != e.component}
        for s in samples:
            for name, value in s.signals.items():
                mode = name.removesuffix("_wear_pct")
                if value <= 75 or (s.machine_id, mode) in self.open:
                    continue
                self.open.add((s.machine_id, mode))
                out.append(AlertEvent(alert_id=f"{s.machine_id}|{mode}|{s.ts.isoformat()}", machine_id=s.machine_id,
                                      ts=s.ts, action=AlertAction.RAISED, mode=mode, priority="high",
                                      probability=0.9, model_version="fake"))
        return out

    def close(self) -> None:
        """Nothing to release."""
