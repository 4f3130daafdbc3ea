"""Health score 0–100 from calibrated failure probabilities and RUL (ISO 13374 "health
assessment" block).

The score answers one question: how likely is this machine to fail within the model's
horizon H? ``risk = max(max_mode P(fail within H), rul_risk)`` and ``health = 100·(1 − risk)``.
RUL enters as ``rul_risk = exp(−RUL / H)``: a RUL equal to the horizon gives risk 0.37
(health 63, *watch*), half the horizon gives 0.61 (health 39, *act*).

Bands (documented in docs/scoring.md, shown by the UI):
``good`` ≥ 80, ``watch`` 50–80, ``act`` < 50.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import StrEnum

from contracts.plant import MODE_COMPONENT

GOOD_MIN = 80.0
WATCH_MIN = 50.0

class Band(StrEnum):
    """Health band an operator acts on."""

    GOOD = "good"
    WATCH = "watch"
    ACT = "act"


def band(health: float) -> Band:
    """The band of a health score (≥80 good, 50–80 watch, <50 act)."""
    if health >= GOOD_MIN:
        return Band.GOOD
    if health >= WATCH_MIN:
        return Band.WATCH
    return Band.ACT


def rul_risk(rul_hours: float | None, horizon_hours: float) -> float:
    """Risk implied by a remaining useful life: ``exp(−RUL/H)``; 0 when RUL is unknown."""
    if rul_hours is None or not math.isfinite(rul_hours) or horizon_hours <= 0:
        return 0.0
    return math.exp(-max(rul_hours, 0.0) / horizon_hours)


def _clip01(value: float) -> float:
    return 0.0 if not math.isfinite(value) else min(1.0, max(0.0, value))


def health(probabilities: Mapping[str, float], rul_hours: float | None, horizon_hours: float) -> float:
    """Machine health 0–100 (rounded to 0.1) from per-mode probabilities and RUL."""
    p_max = max((_clip01(p) for p in probabilities.values()), default=0.0)
    risk = max(p_max, rul_risk(rul_hours, horizon_hours))
    return round(100.0 * (1.0 - risk), 1)


def component_health(probabilities: Mapping[str, float]) -> dict[str, float]:
    """Health per component (0–100): the worst mode that hits the component decides."""
    out: dict[str, float] = {}
    for mode, p in probabilities.items():
        component = MODE_COMPONENT.get(mode, mode)
        value = round(100.0 * (1.0 - _clip01(p)), 1)
        out[component] = min(out.get(component, 100.0), value)
    return out
