"""Prices and options the KPI engine needs: every assumption behind a cost figure is here.

Defaults are round, documented placeholders for a mid-size Chinese machining plant
(currency CNY); a pilot overrides them with the plant's own figures and the report lists
whichever values were used.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class KpiPrices(BaseModel):
    """Unit prices that turn event counts and durations into money."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    currency: str = "CNY"
    labour_per_hour: float = Field(default=120.0, ge=0, description="Fully loaded technician rate.")
    technicians_per_job: float = Field(default=1.0, ge=0, description="Technicians on each maintenance action.")
    lost_production_per_part: float = Field(
        default=40.0, ge=0, description="Contribution margin lost per part not made during downtime.")
    energy_per_kwh: float = Field(default=0.8, ge=0, description="Industrial electricity tariff.")
    scrap_per_defect: float = Field(default=25.0, ge=0, description="Material and rework cost of one defective part.")


class KpiOptions(BaseModel):
    """Choices in the KPI definitions that a plant may set differently."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    planned_downtime_in_busy_time: bool = Field(
        default=True,
        description=("Count planned maintenance against availability. ISO 22400-2 excludes planned downtime "
                     "from planned busy time; a maintenance pilot keeps it in so that a policy cannot hide "
                     "the downtime it causes. Set False for the strict ISO figure."))
    alert_window_hours: float = Field(
        default=24.0, gt=0,
        description="An alert is true if a failure of its machine (and mode) follows within this window.")
    match_alert_mode: bool = Field(
        default=True, description="Require the alert's mode to equal the failure mode (default: an alert is only "
                                  "true for the failure it warned of); False counts a failure of any mode.")
