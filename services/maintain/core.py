"""The maintainer's core: a pilot policy fed from the line's own topics, on the line's own clock.

``Maintainer.feed`` takes decoded records of ``linewatch.events.v1`` and
``linewatch.alerts.v1`` in arrival order and returns the commands due. The clock is the
newest event or alert timestamp seen (the simulated line may run at 3600x, and the scorer's
alerts trail the events by its lag); the policy is reviewed at most once per
``review_every`` of that clock, the pilot's decision step. Records the maintainer cannot use
come back as ``Skipped`` with the reason. No Kafka here: the worker (``services.maintain.worker``)
reads the topics and publishes the commands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from contracts import AlertAction, AlertEvent, MaintenanceCommand
from services.pilot.policies import Policy

PolicyFactory = Callable[[datetime], Policy]


@dataclass(frozen=True)
class Skipped:
    """A record the maintainer left out, with why."""

    record: object
    reason: str


@dataclass(frozen=True)
class Decision:
    """One command and the alert it answers (``None`` for a calendar-driven command)."""

    command: MaintenanceCommand
    alert: AlertEvent | None


class Maintainer:
    """Feed events and alerts to a policy; ask it for commands once per ``review_every`` of line time.

    ``make_policy(start)`` builds the policy at the first record (a calendar policy's clocks
    start there). ``machines``: the plant's machine ids; records of other machines are skipped.
    """

    def __init__(self, make_policy: PolicyFactory, machines: Iterable[str],
                 review_every: timedelta = timedelta(minutes=30)) -> None:
        if review_every <= timedelta(0):
            raise ValueError("review_every must be positive")
        self._make_policy, self.machines, self.review_every = make_policy, frozenset(machines), review_every
        self.policy: Policy | None = None
        self.clock: datetime | None = None
        self._next_review: datetime | None = None
        self._alerts: dict[str, AlertEvent] = {}  # latest event per open alert id: the reason a command names
        self.skipped: list[Skipped] = []

    def feed(self, records: Iterable[object]) -> list[Decision]:
        """Observe one batch, then review if the line clock passed the next review time."""
        events: list[object] = []
        alerts: list[AlertEvent] = []
        for record in records:
            reason = self._unusable(record)
            if reason is not None:
                self.skipped.append(Skipped(record, reason))
                continue
            ts: datetime = record.ts  # type: ignore[attr-defined]  # checked by _unusable
            self.clock = ts if self.clock is None else max(self.clock, ts)
            if isinstance(record, AlertEvent):
                alerts.append(record)
                if record.action == AlertAction.CLEARED:
                    self._alerts.pop(record.alert_id, None)
                else:
                    self._alerts[record.alert_id] = record
            else:
                events.append(record)
        if self.clock is None:
            return []
        if self.policy is None:
            self.policy = self._make_policy(self.clock)
            self._next_review = self.clock
        self.policy.observe(events, alerts)
        if self._next_review is None or self.clock < self._next_review:
            return []
        self._next_review = self.clock + self.review_every
        out = []
        for command in self.policy.due(self.clock):
            alert = self._alerts.pop(command.alert_id, None) if command.alert_id else None
            out.append(Decision(command, alert))
        return out

    def _unusable(self, record: object) -> str | None:
        machine = getattr(record, "machine_id", None)
        ts = getattr(record, "ts", None)
        if machine is None or not isinstance(ts, datetime):
            return f"not a line event or alert: {type(record).__name__}"
        if machine not in self.machines:
            return f"unknown machine {machine!r}: not in the plant file"
        if ts.tzinfo is None:
            return f"timestamp {ts.isoformat()} has no time zone"
        return None


def describe(decision: Decision, clock: datetime | None) -> str:
    """The log line of one command: what, where, why, on which clock."""
    c, a = decision.command, decision.alert
    why = (f"alert {a.alert_id} ({a.mode}, p={a.probability:.2f}, {a.priority})" if a is not None
           else f"alert {c.alert_id}" if c.alert_id else c.reason)
    at = clock.isoformat() if clock else c.ts.isoformat()
    return f"command {c.command_id}: {c.action} on {c.machine_id} ({c.component}) for {why}; line time {at}"
