"""Maintenance policies compared in a pilot. Each sees only what a real line reports (events,
alerts) and answers with ``MaintenanceCommand``s; none reads simulator internals.

- ``RunToFailure``: never maintains; components are repaired after they fail.
- ``FixedInterval``: restores each component a fixed time after its last restoration
  (repair or maintenance), like a calendar-based preventive plan.
- ``Predictive``: turns LineWatch alerts (raised by the scoring pipeline) into commands,
  gated by the expected-cost rule of ``services.pilot.decision``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from contracts import (
    AlertAction,
    AlertEvent,
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

    def observe(self, events: Iterable[object], alerts: Iterable[AlertEvent]) -> None: ...

    def due(self, now: datetime) -> list[MaintenanceCommand]: ...


def _command_id(policy: str, machine_id: str, mode: str, at: datetime) -> str:
    # deterministic: the same seed and policy give the same ids, so a rerun is byte-identical
    return f"{policy}|{machine_id}|{mode}|{at.isoformat()}"


@dataclass
class RunToFailure:
    """The baseline arm: no maintenance before a failure."""

    name: str = "run_to_failure"

    def observe(self, events: Iterable[object], alerts: Iterable[AlertEvent]) -> None:
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

    def observe(self, events: Iterable[object], alerts: Iterable[AlertEvent]) -> None:
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
    latest probability and, at each review, acts only on those where expected cost favours
    acting, plus the nearly-due ones on a machine that is stopped anyway (grouping).

    An alert for a component restored less than its cooldown ago is ignored: a restored
    component is as good as new, the scorer needs a few windows of fresh data before its
    alert clears, and acting twice would only stop the machine again. ``cooldown_h`` is the
    floor; ``mode_cooldown_h`` may raise it per mode (the pilot uses a fraction of the mode's
    mean life seen run-to-failure).
    """

    cooldown_h: float = 6.0
    mode_cooldown_h: dict[str, float] = field(default_factory=dict)
    rule: ActionRule | None = None
    name: str = "predictive"
    _restored: dict[tuple[str, str], datetime] = field(default_factory=dict, init=False)
    _open: dict[tuple[str, str], AlertEvent] = field(default_factory=dict, init=False)
    _acted: set[str] = field(default_factory=set, init=False)
    _stopped: set[str] = field(default_factory=set, init=False)
    _cycle_s: dict[str, float] = field(default_factory=dict, init=False)

    def observe(self, events: Iterable[object], alerts: Iterable[AlertEvent]) -> None:
        """Note restorations, stops, ideal cycle times and the open alerts with their latest probability."""
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
                self._cycle_s[event.machine_id] = event.ideal_cycle_time_s
        for alert in alerts:
            key = (alert.machine_id, alert.mode)
            if alert.mode not in MODE_ACTION:
                continue
            if alert.action == AlertAction.CLEARED:
                self._open.pop(key, None)
            elif alert.alert_id not in self._acted:
                self._open[key] = alert  # raised or updated: keep the latest probability

    def _cooling(self, alert: AlertEvent) -> bool:
        restored = self._restored.get((alert.machine_id, alert.mode))
        cooldown = max(self.cooldown_h, self.mode_cooldown_h.get(alert.mode, 0.0))
        return restored is not None and alert.ts - restored < timedelta(hours=cooldown)

    def _chosen(self, candidates: list[AlertEvent]) -> list[AlertEvent]:
        if self.rule is None:
            return candidates
        rule = self.rule
        chosen = [a for a in candidates
                  if rule.should_act(a.mode, a.probability, self._cycle_s.get(a.machine_id))]
        stopped = self._stopped | {a.machine_id for a in chosen}
        return [a for a in candidates if a in chosen or (a.machine_id in stopped and rule.should_act(
            a.mode, a.probability, self._cycle_s.get(a.machine_id), machine_stopped=True))]

    def due(self, now: datetime) -> list[MaintenanceCommand]:
        """Commands for the open alerts the rule acts on (all new ones without a rule), outside cooldown."""
        candidates = []
        for key, alert in sorted(self._open.items()):
            if self._cooling(alert):
                self._acted.add(alert.alert_id)  # raised on a fresh component: stale, never act on it
                del self._open[key]
            else:
                candidates.append(alert)
        out = []
        for alert in self._chosen(candidates):
            self._acted.add(alert.alert_id)
            del self._open[(alert.machine_id, alert.mode)]
            out.append(MaintenanceCommand(
                command_id=_command_id(self.name, alert.machine_id, alert.mode, alert.ts), machine_id=alert.machine_id,
                ts=now, action=MODE_ACTION[alert.mode], component=MODE_COMPONENT[alert.mode], reason="predictive",
                alert_id=alert.alert_id))
        if self.rule is None:
            for key, alert in list(self._open.items()):  # the naive policy looks at each alert once
                self._acted.add(alert.alert_id)
                del self._open[key]
        return out
