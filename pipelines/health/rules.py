"""Alert rules: one open alert per machine and failure mode, hysteresis on raise and
clear, priority from probability and RUL (ISA-18.2: priority follows consequence and
time to respond; the RUL is the time to respond).

Raise: P(mode) ≥ threshold for ``raise_after`` consecutive scores.
Clear: P(mode) < threshold·``clear_ratio`` for ``clear_after`` consecutive scores.
Between the two levels nothing changes, so a probability hovering at the threshold does
not chatter. While an alert is open an ``updated`` event is emitted only when its
priority changes. An alert belongs to one failure episode: when its component is restored
(maintenance or repair done) or fails, ``resolve`` clears it at once, and a later raise on
the restored component is a new alert with a new id. The alert id is ``<machine>|<mode>|<raise window end>``:
a replay of the same scores raises the same id, so downstream upserts never duplicate an alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from contracts.messages import AlertAction, AlertEvent, HealthScore, Priority
from pipelines.health.text import alert_messages, recommended_action


@dataclass(frozen=True)
class AlertRules:
    """Parameters of the alert rules (per plant; thresholds per mode come from the model)."""

    default_threshold: float = 0.5
    clear_ratio: float = 0.6
    raise_after: int = 2
    clear_after: int = 3
    high_probability: float = 0.85
    medium_probability: float = 0.7
    high_rul_fraction: float = 0.25  # RUL under this share of the horizon → high priority
    medium_rul_fraction: float = 0.5

    def __post_init__(self) -> None:
        if not 0 < self.default_threshold < 1 or not 0 < self.clear_ratio <= 1:
            raise ValueError("default_threshold must be in (0, 1) and clear_ratio in (0, 1]")
        if self.raise_after < 1 or self.clear_after < 1:
            raise ValueError("raise_after and clear_after must be at least 1")

    def priority(self, probability: float, rul_hours: float | None, horizon_hours: float) -> Priority:
        """High/medium/low from the probability and the time left to respond."""
        rul_frac = None if rul_hours is None else rul_hours / horizon_hours
        if probability >= self.high_probability or (rul_frac is not None and rul_frac < self.high_rul_fraction):
            return "high"
        if probability >= self.medium_probability or (rul_frac is not None and rul_frac < self.medium_rul_fraction):
            return "medium"
        return "low"


@dataclass
class OpenAlert:
    """An alert the tracker holds open."""

    alert_id: str
    raised_ts: datetime
    priority: Priority
    probability: float = 0.0  # latest, for the message of a resolution
    model_version: str = ""


@dataclass
class ModeState:
    """Hysteresis state of one machine and mode."""

    open: OpenAlert | None = None
    above: int = 0
    below: int = 0


@dataclass
class AlertTracker:
    """Turns a machine's successive scores into alert life-cycle events."""

    rules: AlertRules = field(default_factory=AlertRules)
    states: dict[tuple[str, str], ModeState] = field(default_factory=dict)

    def open_alerts(self, machine_id: str) -> dict[str, OpenAlert]:
        """Open alerts of a machine by mode."""
        return {m: s.open for (mid, m), s in self.states.items() if mid == machine_id and s.open}

    def restore(self, machine_id: str, mode: str, alert: OpenAlert | None) -> None:
        """Set the open alert of a machine+mode (state rebuilt from the store after a restart)."""
        self.states.setdefault((machine_id, mode), ModeState()).open = alert

    def resolve(self, machine_id: str, mode: str, ts: datetime,
                why: Literal["restored", "failed"]) -> AlertEvent | None:
        """End the episode of an open alert (component restored or failed): a ``cleared`` event, or None."""
        state = self.states.get((machine_id, mode))
        if state is None or state.open is None:
            return None
        alert, state.open, state.above, state.below = state.open, None, 0, 0
        en = {"restored": "Resolved: the component was restored", "failed": "Closed: the component failed"}[why]
        zh = {"restored": "已解决：部件已恢复", "failed": "已关闭：部件已失效"}[why]
        return AlertEvent(alert_id=alert.alert_id, machine_id=machine_id, ts=ts, action=AlertAction.CLEARED,
                          mode=mode, priority=alert.priority, probability=min(1.0, max(0.0, alert.probability)),
                          model_version=alert.model_version or "unknown", message_en=en, message_zh=zh,
                          recommended_action=recommended_action(mode)[0])

    def forget(self, machine_id: str) -> None:
        """Drop a machine's state (its partition moved to another worker)."""
        for key in [k for k in self.states if k[0] == machine_id]:
            del self.states[key]

    def step(self, score: HealthScore, thresholds: Mapping[str, float] | None = None,
             suppressed: bool = False) -> list[AlertEvent]:
        """Advance every mode of ``score``'s machine; return the events to publish.

        ``suppressed`` (machine in setup or planned maintenance) holds raising back by
        design; open alerts still clear normally.
        """
        events: list[AlertEvent] = []
        for mode, p in sorted(score.failure_probability.items()):
            threshold = (thresholds or {}).get(mode, self.rules.default_threshold)
            state = self.states.setdefault((score.machine_id, mode), ModeState())
            event = self._advance(state, score, mode, p, threshold, suppressed)
            if event is not None:
                events.append(event)
        return events

    def _advance(self, state: ModeState, score: HealthScore, mode: str, p: float, threshold: float,
                 suppressed: bool) -> AlertEvent | None:
        rul = score.rul_hours if score.rul_mode in (None, mode) else None
        state.above = state.above + 1 if p >= threshold and not suppressed else 0
        state.below = state.below + 1 if p < threshold * self.rules.clear_ratio else 0
        if state.open is None:
            if state.above >= self.rules.raise_after:
                priority = self.rules.priority(p, rul, score.mode_horizon_hours.get(mode, score.horizon_hours))
                state.open = OpenAlert(f"{score.machine_id}|{mode}|{score.ts.isoformat()}", score.ts, priority,
                                       p, score.model_version)
                state.below = 0
                return self._event(state.open, score, mode, p, rul, AlertAction.RAISED)
            return None
        if state.below >= self.rules.clear_after:
            event = self._event(state.open, score, mode, p, rul, AlertAction.CLEARED)
            state.open, state.above = None, 0
            return event
        state.open.probability, state.open.model_version = p, score.model_version
        priority = self.rules.priority(p, rul, score.mode_horizon_hours.get(mode, score.horizon_hours))
        if p >= threshold * self.rules.clear_ratio and priority != state.open.priority:
            state.open.priority = priority
            return self._event(state.open, score, mode, p, rul, AlertAction.UPDATED)
        return None

    def _event(self, alert: OpenAlert, score: HealthScore, mode: str, p: float, rul: float | None,
               action: AlertAction) -> AlertEvent:
        factors = list(score.top_factors[:3])
        message_en, message_zh = alert_messages(mode, p, score.mode_horizon_hours.get(mode, score.horizon_hours), rul,
                                                factors)
        if action is AlertAction.CLEARED:
            message_en = f"Returned to normal: {message_en}"
            message_zh = f"已恢复正常：{message_zh}"
        return AlertEvent(alert_id=alert.alert_id, machine_id=score.machine_id, ts=score.ts, action=action,
                          mode=mode, priority=alert.priority, probability=min(1.0, max(0.0, p)), rul_hours=rul,
                          model_version=score.model_version, message_en=message_en, message_zh=message_zh,
                          recommended_action=recommended_action(mode)[0], top_factors=factors)
