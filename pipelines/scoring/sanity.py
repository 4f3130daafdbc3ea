"""Plausibility of samples and signal values at the scorer's edge.

``screen`` rejects a whole sample (a dead letter with the reason): its time is too far
from the Kafka record time (``TimeRules``), or none of its signals is a sensor of the
machine in the plant file. The rebuild applies the same function to the same records
(the record time is stored in the log), so a rejected sample never enters a window.

A value is absurd when it is outside the physical range of its unit (a bearing at
900 °C, a negative speed) or more than ``SPAN_FACTOR`` normal-range widths beyond the
machine's normal range from the plant file. Absurd values are not fed to the models
(they become missing, as a dropout would) and are counted as sensor faults; the sample
itself is kept, because its other signals are fine.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# The limits are the plant-file range rule of the signal-quality module (one definition).
from pipelines.signalquality import SPAN_FACTOR, UNIT_LIMITS, Limits
from pipelines.signalquality import range_limits as limits_for

__all__ = ["SPAN_FACTOR", "UNIT_LIMITS", "Limits", "limits_for", "clean"]


def clean(signals: Mapping[str, float | None], limits: Limits) -> tuple[dict[str, float | None], list[str]]:
    """Signals with absurd values replaced by None, and the names of the faulted signals."""
    cleaned: dict[str, float | None] = {}
    faults: list[str] = []
    for name, value in signals.items():
        bounds = limits.get(name)
        if value is not None and bounds is not None and not bounds[0] <= value <= bounds[1]:
            cleaned[name] = None
            faults.append(name)
        else:
            cleaned[name] = value
    return cleaned, faults


DAY_S = 86_400.0


@dataclass(frozen=True)
class TimeRules:
    """Allowed distance of a sample's ``ts`` from its Kafka record time (0 = no limit)."""

    max_future_s: float = 400 * DAY_S
    max_past_s: float = 3650 * DAY_S


def _days(seconds: float) -> str:
    return f"{seconds / DAY_S:,.1f} days" if abs(seconds) >= DAY_S else f"{seconds:,.0f} s"


def _text(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat(timespec="seconds")


def screen(sample: Any, record_ms: int, rules: TimeRules, sensors: Collection[str], plant_name: str = "plant",
           now_ms: float | None = None) -> tuple[str, str] | None:
    """(error type, reason) if the whole sample must be rejected, else None.

    The reference time is the record's Kafka timestamp; a record without one (-1) is
    compared with the wall clock (``now_ms``)."""
    if record_ms is not None and record_ms > 0:
        reference, what = record_ms / 1000.0, "its Kafka record time"
    else:
        reference = (now_ms if now_ms is not None else datetime.now(UTC).timestamp() * 1000) / 1000.0
        what = "the wall clock"
    ahead = sample.ts.timestamp() - reference
    if rules.max_future_s and ahead > rules.max_future_s:
        return "TimeTooFarAhead", (f"ts {sample.ts.isoformat()} is {_days(ahead)} after {what} {_text(reference)} "
                                   f"(limit {_days(rules.max_future_s)}: LINEWATCH_SCORING__MAX_FUTURE_S)")
    if rules.max_past_s and -ahead > rules.max_past_s:
        return "TimeTooFarBehind", (f"ts {sample.ts.isoformat()} is {_days(-ahead)} before {what} "
                                    f"{_text(reference)} (limit {_days(rules.max_past_s)}: "
                                    "LINEWATCH_SCORING__MAX_PAST_S)")
    known = not sensors.isdisjoint(sample.signals) if isinstance(sensors, (set, frozenset)) \
        else any(name in sensors for name in sample.signals)
    if sample.signals and not known:
        names = sorted(sample.signals)
        shown = ", ".join(names[:5]) + (f" … ({len(names)} in all)" if len(names) > 5 else "")
        return "UnknownSignals", (f"none of the signals is a sensor of {sample.machine_id} in {plant_name}: "
                                  f"{shown}")
    return None
