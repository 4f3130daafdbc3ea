"""Improvement figures against a named baseline, each with its formula and inputs.

A plant manager must be able to recompute every figure by hand from what is returned.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from pipelines.kpis.kpis import Kpis


class Improvement(BaseModel):
    """One improvement figure: positive ``value`` always means better than the baseline."""

    model_config = ConfigDict(frozen=True)

    name: str
    formula: str
    inputs: dict[str, float | None]
    value: float | None
    baseline: str
    target: float | None = None
    met: bool | None = None


# name, KPI field, direction (lower/higher is better), symbol used in the formula, national target
DEFINITIONS: list[tuple[str, str, Literal["lower", "higher"], str, float | None]] = [
    ("defect_rate_reduction", "defect_rate", "lower", "DR", 0.10),
    ("energy_utilisation_increase", "energy_utilisation_parts_per_kwh", "higher", "EU", 0.10),
    ("energy_per_good_part_reduction", "energy_per_good_part_kwh", "lower", "EPGP", None),
    ("operating_cost_reduction", "operating_cost", "lower", "OC", 0.20),
    ("maintenance_cost_reduction", "maintenance_cost", "lower", "MC", None),
    ("unplanned_downtime_reduction", "unplanned_downtime_hours", "lower", "UD", None),
    ("oee_increase", "oee", "higher", "OEE", None),
]

# The national targets this product serves (smart factories / digital workshops).
TARGETS = {name: target for name, _, _, _, target in DEFINITIONS if target is not None}


def relative_change(name: str, base: float | None, now: float | None, direction: Literal["lower", "higher"],
                    symbol: str, baseline: str, target: float | None = None) -> Improvement:
    """``(base − now) / base`` when lower is better, ``(now − base) / base`` when higher is better."""
    if direction == "lower":
        formula = f"({symbol}_base − {symbol}_now) / {symbol}_base"
        value = (base - now) / base if base not in (None, 0) and now is not None else None
    else:
        formula = f"({symbol}_now − {symbol}_base) / {symbol}_base"
        value = (now - base) / base if base not in (None, 0) and now is not None else None
    met = None if target is None or value is None else value >= target
    return Improvement(name=name, formula=formula, inputs={f"{symbol}_base": base, f"{symbol}_now": now},
                       value=value, baseline=baseline, target=target, met=met)


def improvements(base: Kpis, now: Kpis, baseline: str = "baseline") -> list[Improvement]:
    """Every improvement of ``now`` over ``base``; ``baseline`` names the baseline (period or arm)."""
    return [relative_change(name, getattr(base, field), getattr(now, field), direction, symbol, baseline, target)
            for name, field, direction, symbol, target in DEFINITIONS]
