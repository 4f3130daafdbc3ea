"""The shape an uploaded pilot report must have: what ``linewatch pilot`` writes (docs/pilot.md).

Only the parts a reader relies on are checked (per-arm KPI intervals, targets, config,
assumptions); extra keys are kept as they are.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class KpiInterval(BaseModel):
    model_config = ConfigDict(extra="allow")

    mean: float | None
    low: float | None = None
    high: float | None = None
    n: int = Field(ge=0)


class ScopeSummary(BaseModel):
    model_config = ConfigDict(extra="allow")

    kpis: dict[str, KpiInterval]


class PilotReportIn(BaseModel):
    """A pilot report: ``arms[arm][scope].kpis[name]`` = mean, interval and n over seeds."""

    model_config = ConfigDict(extra="allow")

    schema_version: int = Field(ge=1)
    plant: str = Field(min_length=1)
    config: dict[str, Any]
    assumptions: dict[str, Any]
    arms: dict[str, dict[str, ScopeSummary]] = Field(min_length=1)
    targets: list[dict[str, Any]]

    @field_validator("arms")
    @classmethod
    def _plant_scope(cls, arms: dict[str, dict[str, ScopeSummary]]) -> dict[str, dict[str, ScopeSummary]]:
        missing = [arm for arm, scopes in arms.items() if "plant" not in scopes]
        if missing:
            raise ValueError(f"arms {missing} have no 'plant' scope (arms[arm].plant.kpis)")
        return arms
