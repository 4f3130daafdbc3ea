"""Maintenance policies compared in a pilot. Each sees only what a real line reports (events,
alerts) and answers with ``MaintenanceCommand``s; none reads simulator internals.

- ``RunToFailure``: never maintains; components are repaired after they fail.
- ``FixedInterval``: restores each component a fixed time after its last restoration
  (repair or maintenance), like a calendar-based preventive plan.
- ``Predictive``: turns LineWatch alerts (raised by the scoring pipeline) into commands,
  gated by the expected-cost rule of ``services.pilot.decision``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import numpy as np

from contracts import (
    AlertAction,
    AlertEvent,
    HealthScore,
    MachineState,
    MaintenanceCommand,
    MaintenanceDone,
    PartCompleted,
    StateChanged,
)
from contracts.plant import MODE_ACTION, MODE_COMPONENT, Plant
from services.pilot.decision import ActionRule


class Policy(Protocol):
    """What the pilot runner asks a policy: watch events and alerts, then name the commands due now."""

    name: str

    def observe(self, events: Iterable[object], alerts: Iterable[AlertEvent],
                scores: Iterable[HealthScore] = ()) -> None: ...

    def due(self, now: datetime) -> list[MaintenanceCommand]: ...


def _command_id(policy: str, machine_id: str, mode: str, at: datetime) -> str:
    # deterministic: the same seed and policy give the same ids, so a rerun is byte-identical
    return f"{policy}|{machine_id}|{mode}|{at.isoformat()}"


@dataclass
class RunToFailure:
    """The baseline arm: no maintenance before a failure."""

    name: str = "run_to_failure"

    def observe(self, events: Iterable[object], alerts: Iterable[AlertEvent],
                scores: Iterable[HealthScore] = ()) -> None:
        """Nothing to learn: this policy never acts."""

    def due(self, now: datetime) -> list[MaintenanceCommand]:
        """Never any command."""
        return []


@dataclass
class FixedInterval:
    """Restore each (machine, mode) ``intervals_h[mode]`` hours after its last restoration.

    Modes without an interval are left to run to failure. The clock of a component starts at
    its fitting date from the CMMS (``know_ages``; at the first observation time if the line
    gives no record) and restarts at each ``MaintenanceDone`` of its component (planned or
    repair), as a maintenance planner's calendar would.
    """

    plant: Plant
    intervals_h: dict[str, float]
    start: datetime
    running_share: dict[str, float] = field(default_factory=dict)
    name: str = "preventive"
    _last: dict[tuple[str, str], datetime] = field(default_factory=dict, init=False)
    _pending: set[tuple[str, str]] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        for machine in self.plant.machines():
            for mode in machine.failure_modes:
                self._last[(machine.id, mode)] = self.start

    def know_ages(self, ages_h: dict[tuple[str, str], float]) -> None:
        """Start each component's clock from its CMMS record (running hours since fitting).

        Running hours become calendar hours by dividing by the kind's running share (measured
        on the training history), the clock the intervals were optimised on.
        """
        kinds = {m.id: m.kind for m in self.plant.machines()}
        for key, age in ages_h.items():
            if key in self._last:
                share = max(self.running_share.get(kinds[key[0]], 1.0), 1e-6)
                self._last[key] = self.start - timedelta(hours=age / share)

    def observe(self, events: Iterable[object], alerts: Iterable[AlertEvent],
                scores: Iterable[HealthScore] = ()) -> None:
        """Restart a component's clock when it is maintained or repaired."""
        for event in events:
            if isinstance(event, MaintenanceDone):
                for mode, component in MODE_COMPONENT.items():
                    key = (event.machine_id, mode)
                    if component == event.component and key in self._last:
                        self._last[key] = event.ts
                        self._pending.discard(key)

    def due(self, now: datetime) -> list[MaintenanceCommand]:
        """Commands for every component whose interval has run out and is not already ordered."""
        out = []
        for (machine_id, mode), last in sorted(self._last.items()):
            hours = self.intervals_h.get(mode)
            if hours is None or (machine_id, mode) in self._pending:
                continue
            if now - last >= timedelta(hours=hours):
                self._pending.add((machine_id, mode))
                out.append(MaintenanceCommand(
                    command_id=_command_id(self.name, machine_id, mode, now), machine_id=machine_id, ts=now,
                    action=MODE_ACTION[mode], component=MODE_COMPONENT[mode], reason="preventive"))
        return out


@dataclass
class Predictive:
    """LineWatch-predictive: alerts raised by the scoring pipeline become maintenance commands.

    Without a ``rule`` every newly raised alert becomes one command (the naive policy). With an
    :class:`~services.pilot.decision.ActionRule` the policy keeps each open alert with its
    latest probability and, at each review, acts where expected cost favours acting, plus the
    nearly-due ones on a machine that is stopped anyway (grouping).

    Scrap and energy (``observe(..., scores)``): from the scores it keeps each machine's
    predicted defect risk r (P(a defect among the next ``defect_parts`` parts)) as a per-part
    probability q = 1 − (1 − r)^(1/k), and from ``PartCompleted`` each part's power
    (energy / cycle time) per program. The machine's *healthy level* is the
    ``healthy_quantile`` of its own recent history (``history_scores`` scores,
    ``history_parts`` parts per program); what lies above it, times the share of that excess
    the mode's wear explains in the plant's history (``quality_share``, ``energy_share``),
    becomes R of the rule over the mode's horizon, for every mode of a scored machine —
    with or without an alert. Without scores or shares R is 0 and the rule is the
    failure-only one.

    An alert for a component restored less than its cooldown ago is ignored: a restored
    component is as good as new, the scorer needs a few windows of fresh data before its
    alert clears, and acting twice would only stop the machine again. ``cooldown_h`` is the
    floor; ``mode_cooldown_h`` may raise it per mode (the pilot uses a fraction of the mode's
    mean life seen run-to-failure). The same cooldown holds for scrap- and energy-driven
    actions, and a component already ordered is not ordered again before it is restored.
    """

    cooldown_h: float = 6.0
    mode_cooldown_h: dict[str, float] = field(default_factory=dict)
    rule: ActionRule | None = None
    quality_share: dict[str, float] = field(default_factory=dict)
    energy_share: dict[str, float] = field(default_factory=dict)
    defect_parts: int = 5
    healthy_quantile: float = 0.1
    history_scores: int = 336
    history_parts: int = 2000
    recent_parts: int = 10
    name: str = "predictive"
    _restored: dict[tuple[str, str], datetime] = field(default_factory=dict, init=False)
    _open: dict[tuple[str, str], AlertEvent] = field(default_factory=dict, init=False)
    _acted: set[str] = field(default_factory=set, init=False)
    _stopped: set[str] = field(default_factory=set, init=False)
    _cycle_s: dict[str, float] = field(default_factory=dict, init=False)
    _score: dict[str, HealthScore] = field(default_factory=dict, init=False)
    _defect: dict[str, deque] = field(default_factory=dict, init=False)
    _power: dict[tuple[str, float], deque] = field(default_factory=dict, init=False)
    _recent: dict[str, deque] = field(default_factory=dict, init=False)
    _parts_at: dict[str, deque] = field(default_factory=dict, init=False)
    _first_seen: dict[str, datetime] = field(default_factory=dict, init=False)
    _ordered: dict[tuple[str, str], datetime] = field(default_factory=dict, init=False)

    def observe(self, events: Iterable[object], alerts: Iterable[AlertEvent],
                scores: Iterable[HealthScore] = ()) -> None:
        """Note restorations, stops, parts (cycle, power), the open alerts and the latest score per machine."""
        for event in events:
            if isinstance(event, MaintenanceDone):
                for mode, component in MODE_COMPONENT.items():
                    if component == event.component:
                        self._restored[(event.machine_id, mode)] = event.ts
            elif isinstance(event, StateChanged):
                if event.to_state in (MachineState.DOWN, MachineState.MAINTENANCE):
                    self._stopped.add(event.machine_id)
                else:
                    self._stopped.discard(event.machine_id)
            elif isinstance(event, PartCompleted):
                self._part(event)
        for alert in alerts:
            key = (alert.machine_id, alert.mode)
            if alert.mode not in MODE_ACTION:
                continue
            if alert.action == AlertAction.CLEARED:
                self._open.pop(key, None)
            elif alert.alert_id not in self._acted:
                self._open[key] = alert  # raised or updated: keep the latest probability
        for score in scores:
            self._score[score.machine_id] = score
            if score.defect_risk is not None:
                self._defect.setdefault(score.machine_id, deque(maxlen=self.history_scores)).append(
                    self._per_part(score.defect_risk))

    def _part(self, part: PartCompleted) -> None:
        m = part.machine_id
        self._cycle_s[m] = part.ideal_cycle_time_s
        self._first_seen.setdefault(m, part.ts)
        self._parts_at.setdefault(m, deque()).append(part.ts)
        if part.cycle_time_s > 0:
            kw = part.energy_kwh * 3600.0 / part.cycle_time_s
            self._power.setdefault((m, part.ideal_cycle_time_s), deque(maxlen=self.history_parts)).append(kw)
            self._recent.setdefault(m, deque(maxlen=self.recent_parts)).append(
                (part.ideal_cycle_time_s, kw, part.cycle_time_s))

    def _per_part(self, risk: float) -> float:
        return 1.0 - (1.0 - min(max(risk, 0.0), 1.0)) ** (1.0 / max(self.defect_parts, 1))

    def excess_defect(self, machine_id: str) -> float:
        """Per-part defect probability above the machine's healthy level (latest score; 0 without history)."""
        hist = self._defect.get(machine_id)
        if not hist or len(hist) < 12:
            return 0.0
        return max(0.0, hist[-1] - float(np.quantile(np.asarray(hist), self.healthy_quantile)))

    def excess_kwh(self, machine_id: str) -> float:
        """Energy per part above the machine's healthy level on its current program (last parts; 0 without history)."""
        recent = [r for r in self._recent.get(machine_id, ()) if r[0] == self._cycle_s.get(machine_id)]
        hist = self._power.get((machine_id, self._cycle_s.get(machine_id, 0.0)))
        if not recent or not hist or len(hist) < 5 * self.recent_parts:
            return 0.0
        healthy = float(np.quantile(np.asarray(hist), self.healthy_quantile))
        now_kw = sum(r[1] for r in recent) / len(recent)
        cycle_s = sum(r[2] for r in recent) / len(recent)
        return max(0.0, now_kw - healthy) * cycle_s / 3600.0

    def parts_per_hour(self, machine_id: str, now: datetime) -> float:
        """Parts the machine made per hour over the last day (from its first part if sooner; 0 before an hour)."""
        at = self._parts_at.get(machine_id)
        if not at:
            return 0.0
        while at and now - at[0] > timedelta(hours=24):
            at.popleft()
        hours = min(24.0, (now - self._first_seen[machine_id]).total_seconds() / 3600.0)
        return len(at) / hours if hours >= 1.0 else 0.0

    def running_cost(self, machine_id: str, mode: str, now: datetime) -> float:
        """R of the rule for (machine, mode): excess scrap and energy over the mode's horizon (0 without a score)."""
        score = self._score.get(machine_id)
        qs, es = self.quality_share.get(mode, 0.0), self.energy_share.get(mode, 0.0)
        if self.rule is None or score is None or (qs <= 0 and es <= 0):
            return 0.0
        hours = score.mode_horizon_hours.get(mode, score.horizon_hours)
        return self.rule.running_cost(hours, self.parts_per_hour(machine_id, now),
                                      qs * self.excess_defect(machine_id), es * self.excess_kwh(machine_id))

    def _cooling(self, machine_id: str, mode: str, at: datetime) -> bool:
        restored = self._restored.get((machine_id, mode))
        cooldown = max(self.cooldown_h, self.mode_cooldown_h.get(mode, 0.0))
        return restored is not None and at - restored < timedelta(hours=cooldown)

    def _pending(self, key: tuple[str, str]) -> bool:
        ordered = self._ordered.get(key)
        restored = self._restored.get(key)
        return ordered is not None and (restored is None or restored < ordered)

    def _condition_candidates(self, now: datetime) -> list[tuple[str, str]]:
        """(machine, mode) of every scored machine's rated modes without an open alert, cooldown or open order."""
        if self.rule is None or not (self.quality_share or self.energy_share):
            return []
        out = []
        for machine_id, score in sorted(self._score.items()):
            for mode in sorted(score.failure_probability):
                key = (machine_id, mode)
                if (mode in MODE_ACTION and mode in self.rule.costs and key not in self._open
                        and not self._cooling(machine_id, mode, now) and not self._pending(key)):
                    out.append(key)
        return out

    def _chosen(self, candidates: list[AlertEvent], conditions: list[tuple[str, str]],
                now: datetime) -> tuple[list[AlertEvent], list[tuple[str, str]]]:
        if self.rule is None:
            return candidates, []
        rule = self.rule

        def act(machine_id: str, mode: str, p: float, stopped: bool) -> bool:
            return rule.should_act(mode, p, self._cycle_s.get(machine_id), machine_stopped=stopped,
                                   running=self.running_cost(machine_id, mode, now))

        chosen = [a for a in candidates if act(a.machine_id, a.mode, a.probability, False)]
        chosen_c = [k for k in conditions if act(k[0], k[1], 0.0, False)]
        stopped = self._stopped | {a.machine_id for a in chosen} | {k[0] for k in chosen_c}
        return ([a for a in candidates if a in chosen or (a.machine_id in stopped and act(
                    a.machine_id, a.mode, a.probability, True))],
                [k for k in conditions if k in chosen_c or (k[0] in stopped and act(k[0], k[1], 0.0, True))])

    def due(self, now: datetime) -> list[MaintenanceCommand]:
        """Commands for the components the rule acts on (all new alerts without a rule), outside cooldown."""
        candidates = []
        for key, alert in sorted(self._open.items()):
            if self._cooling(alert.machine_id, alert.mode, alert.ts):
                self._acted.add(alert.alert_id)  # raised on a fresh component: stale, never act on it
                del self._open[key]
            else:
                candidates.append(alert)
        alerts, conditions = self._chosen(candidates, self._condition_candidates(now), now)
        out = []
        for alert in alerts:
            self._acted.add(alert.alert_id)
            del self._open[(alert.machine_id, alert.mode)]
            self._ordered[(alert.machine_id, alert.mode)] = now
            out.append(MaintenanceCommand(
                command_id=_command_id(self.name, alert.machine_id, alert.mode, alert.ts), machine_id=alert.machine_id,
                ts=now, action=MODE_ACTION[alert.mode], component=MODE_COMPONENT[alert.mode], reason="predictive",
                alert_id=alert.alert_id))
        for machine_id, mode in conditions:
            self._ordered[(machine_id, mode)] = now
            out.append(MaintenanceCommand(
                command_id=_command_id(self.name, machine_id, mode, now), machine_id=machine_id, ts=now,
                action=MODE_ACTION[mode], component=MODE_COMPONENT[mode], reason="predictive"))
        if self.rule is None:
            for key, alert in list(self._open.items()):  # the naive policy looks at each alert once
                self._acted.add(alert.alert_id)
                del self._open[key]
        return out
