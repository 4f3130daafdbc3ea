"""Plausibility of signal values: what counts as an absurd reading (a sensor fault).

A value is absurd when it is outside the physical range of its unit (a bearing at
900 °C, a negative speed) or more than ``SPAN_FACTOR`` normal-range widths beyond the
machine's normal range from the plant file. Absurd values are not fed to the models
(they become missing, as a dropout would) and are counted as sensor faults; the sample
itself is kept, because its other signals are fine.
"""

from __future__ import annotations

from typing import Mapping

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
