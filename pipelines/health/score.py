"""Health score 0–100: how soon action is needed (ISO 13374 "health assessment" block).

Each failure mode m has a horizon H_m (its model predicts p_m = P(fail within H_m)) and a
planning lead L_m (hours the plant needs to plan its action, ``contracts.failure_modes``).
Health weighs the risk against the lead: under a constant hazard over the horizon,
``(1 − p_m) ** (3·L_m / H_m)`` is the chance of surviving three planning leads, so

    h_m   = 100 · (1 − p_m) ** (3·L_m / H_m)
    h_rul = 100 · exp(−3·L_rul / RUL)     (an exponential life with mean RUL surviving 3 leads;
                                           L_rul: the lead of ``rul_mode``, else the shortest)
    health = min(h_m over modes, h_rul)

*act* (< 50) means "more likely than not to fail within three planning leads", *watch*
(50–80) 20–50 %, *good* (≥ 80) under 20 %. A tool that lasts hours but is replaced at the
next cycle break (L = 0.5 h) is *good* with 8 h left; a bearing that needs two days to plan
(L = 48 h) is *act* at p = 0.5 within 96 h.

A mode without a lead keeps the plain ``100·(1 − p_m)`` (L = H/3 gives exactly that); with no
lead at all, RUL keeps ``100·(1 − exp(−RUL/H))``: callers that pass no leads score as before.
Bands (docs/scoring.md "Health score and bands", shown by the UI): good ≥ 80, watch 50–80, act < 50.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import StrEnum

from contracts.plant import MODE_COMPONENT

GOOD_MIN = 80.0
WATCH_MIN = 50.0
#: Planning leads a machine must be likely to survive to stay out of *act*.
LEADS = 3.0


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


def _clip01(value: float) -> float:
    return 0.0 if not math.isfinite(value) else min(1.0, max(0.0, value))


def _positive(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) and value > 0 else None


def mode_health(p: float, horizon_hours: float, lead_hours: float | None = None) -> float:
    """``100·(1 − p)^(3L/H)``: the chance (%) of surviving three planning leads; ``100·(1 − p)`` without a lead."""
    p = _clip01(p)
    lead, horizon = _positive(lead_hours), _positive(horizon_hours)
    exponent = 1.0 if lead is None or horizon is None else LEADS * lead / horizon
    return 100.0 * math.pow(1.0 - p, exponent)


def rul_health(rul_hours: float | None, lead_hours: float | None, horizon_hours: float) -> float:
    """``100·exp(−3L/RUL)``; without a lead ``100·(1 − exp(−RUL/H))``; 100 when RUL is unknown."""
    if rul_hours is None or not math.isfinite(rul_hours):
        return 100.0
    rul = max(rul_hours, 0.0)
    lead = _positive(lead_hours)
    if lead is None:
        horizon = _positive(horizon_hours)
        return 100.0 if horizon is None else 100.0 * (1.0 - math.exp(-rul / horizon))
    return 0.0 if rul == 0 else 100.0 * math.exp(-LEADS * lead / rul)


def rul_lead(leads: Mapping[str, float], rul_mode: str | None, modes: list[str] | None = None) -> float | None:
    """The lead the RUL is weighed against: ``rul_mode``'s, else the shortest of ``modes`` (all leads if None)."""
    if rul_mode is not None and _positive(leads.get(rul_mode)) is not None:
        return leads[rul_mode]
    known = [v for m, v in leads.items() if (modes is None or m in modes) and _positive(v) is not None]
    return min(known) if known else None


def _terms(probabilities: Mapping[str, float], horizon_hours: float, mode_horizons: Mapping[str, float] | None,
           leads: Mapping[str, float] | None) -> dict[str, float]:
    horizons, lead = mode_horizons or {}, leads or {}
    return {m: mode_health(p, horizons.get(m, horizon_hours), lead.get(m)) for m, p in probabilities.items()}


def health(probabilities: Mapping[str, float], rul_hours: float | None, horizon_hours: float,
           mode_horizons: Mapping[str, float] | None = None, leads: Mapping[str, float] | None = None,
           rul_mode: str | None = None) -> float:
    """Machine health 0–100 (rounded to 0.1): the lowest of the mode terms and the RUL term.

    ``mode_horizons``: H per mode (missing: ``horizon_hours``); ``leads``: planning lead per mode
    (missing: that mode's term is ``100·(1 − p)``); ``rul_mode``: the mode the RUL is about.
    """
    terms = list(_terms(probabilities, horizon_hours, mode_horizons, leads).values())
    terms.append(rul_health(rul_hours, rul_lead(leads or {}, rul_mode, list(probabilities)), horizon_hours))
    return round(min(terms), 1)


def component_health(probabilities: Mapping[str, float], horizon_hours: float = 1.0,
                     mode_horizons: Mapping[str, float] | None = None, leads: Mapping[str, float] | None = None,
                     rul_hours: float | None = None, rul_mode: str | None = None) -> dict[str, float]:
    """Health per component (0–100): the lowest term of the modes that hit the component.

    The RUL term joins ``rul_mode``'s component when that mode has a lead, so the machine's
    health is then the lowest component health. Without leads: ``100·(1 − p)`` per mode.
    """
    terms = _terms(probabilities, horizon_hours, mode_horizons, leads)
    if rul_mode in terms and _positive((leads or {}).get(rul_mode)) is not None:
        terms[rul_mode] = min(terms[rul_mode], rul_health(rul_hours, (leads or {})[rul_mode], horizon_hours))
    out: dict[str, float] = {}
    for mode, value in terms.items():
        component = MODE_COMPONENT.get(mode, mode)
        out[component] = min(out.get(component, 100.0), round(value, 1))
    return out
