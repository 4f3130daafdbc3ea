"""Plausibility of signal values: what counts as an absurd reading (a sensor fault).

A value is absurd when it is outside the physical range of its unit (a bearing at
900 °C, a negative speed) or more than ``SPAN_FACTOR`` normal-range widths beyond the
machine's normal range from the plant file. Absurd values are not fed to the models
(they become missing, as a dropout would) and are counted as sensor faults; the sample
itself is kept, because its other signals are fine.
"""

from __future__ import annotations

from typing import Mapping

from contracts.plant import Machine, unit_of

SPAN_FACTOR = 20.0

# Physical limits per unit (inclusive); units not listed only get the span rule.
UNIT_LIMITS: dict[str, tuple[float, float]] = {
    "°C": (-60.0, 600.0), "rpm": (0.0, 100_000.0), "kW": (-500.0, 5_000.0), "mm/s": (0.0, 500.0),
    "bar": (0.0, 1_000.0), "L/min": (0.0, 10_000.0), "%": (0.0, 100.0), "ms": (0.0, 3_600_000.0),
    "s": (0.0, 1e7), "mm": (-1e4, 1e4), "A": (-5_000.0, 5_000.0), "N·m": (-1e5, 1e5), "mm/min": (0.0, 1e6),
}

Limits = dict[str, tuple[float, float]]


def limits_for(machine: Machine) -> Limits:
    """Absurd-value limits per sensor of ``machine``."""
    out: Limits = {}
    for s in machine.sensors:
        span = s.normal_high - s.normal_low
        low, high = s.normal_low - SPAN_FACTOR * span, s.normal_high + SPAN_FACTOR * span
        unit_low, unit_high = UNIT_LIMITS.get(unit_of(s.name) or "", (float("-inf"), float("inf")))
        out[s.name] = (max(low, unit_low), min(high, unit_high))
    return out


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
