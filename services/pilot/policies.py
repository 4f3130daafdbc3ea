"""Maintenance policies compared in a pilot. Each sees only what a real line reports (events,
alerts) and answers with ``MaintenanceCommand``s; none reads simulator internals.

- ``RunToFailure``: never maintains; components are repaired after they fail.
- ``FixedInterval``: restores each component a fixed time after its last restoration
  (repair or maintenance), like a calendar-based preventive plan.
- ``Predictive``: turns LineWatch alerts (raised by the scoring pipeline) into commands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable, Protocol

from contracts import AlertAction, AlertEvent, FailureOccurred, MaintenanceCommand, MaintenanceDone
from contracts.plant import MODE_ACTION, MODE_COMPONENT, Plant


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
    the first observation time and restarts at each ``MaintenanceDone`` of its component
    (planned or repair), as a maintenance planner's calendar would.
    """

    plant: Plant
    intervals_h: dict[str, float]
    start: datetime
    name: str = "preventive"
    _last: dict[tuple[str, str], datetime] = field(default_factory=dict, init=False)
    _pending: set[tuple[str, str]] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        for machine in self.plant.machines():
            for mode in machine.failure_modes:
                self._last[(machine.id, mode)] = self.start

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
    """LineWatch-predictive: each newly raised alert becomes one maintenance command.

    An alert for a component restored less than its cooldown ago is ignored: a restored
    component is as good as new, the scorer needs a few windows of fresh data before its
    alert clears, and acting twice would only stop the machine again. ``cooldown_h`` is the
    floor; ``mode_cooldown_h`` may raise it per mode (the pilot uses a fraction of the mode's
    mean life seen run-to-failure).
    """

    cooldown_h: float = 6.0
    mode_cooldown_h: dict[str, float] = field(default_factory=dict)
    name: str = "predictive"
    _restored: dict[tuple[str, str], datetime] = field(default_factory=dict, init=False)
    _queue: list[AlertEvent] = field(default_factory=list, init=False)
    _acted: set[str] = field(default_factory=set, init=False)
    _failed: set[tuple[str, str]] = field(default_factory=set, init=False)

    def observe(self, events: Iterable[object], alerts: Iterable[AlertEvent]) -> None:
        """Note restorations and queue newly raised alerts."""
        for event in events:
            if isinstance(event, MaintenanceDone):
                for mode, component in MODE_COMPONENT.items():
                    if component == event.component:
                        self._restored[(event.machine_id, mode)] = event.ts
            elif isinstance(event, FailureOccurred):
                self._failed.add((event.machine_id, event.mode))
        for alert in alerts:
            if alert.action == AlertAction.RAISED and alert.alert_id not in self._acted and alert.mode in MODE_ACTION:
                self._queue.append(alert)

    def due(self, now: datetime) -> list[MaintenanceCommand]:
        """One command per new alert outside the cooldown of its component."""
        out = []
        for alert in self._queue:
            self._acted.add(alert.alert_id)
            restored = self._restored.get((alert.machine_id, alert.mode))
            cooldown = max(self.cooldown_h, self.mode_cooldown_h.get(alert.mode, 0.0))
            if restored is not None and alert.ts - restored < timedelta(hours=cooldown):
                continue
            out.append(MaintenanceCommand(
                command_id=_command_id(self.name, alert.machine_id, alert.mode, alert.ts), machine_id=alert.machine_id,
                ts=now, action=MODE_ACTION[alert.mode], component=MODE_COMPONENT[alert.mode], reason="predictive",
                alert_id=alert.alert_id))
        self._queue.clear()
        return out
