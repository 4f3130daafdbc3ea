"""Pilot settings: which arms, how many seeds, how long, at which prices.

Built once by the CLI from flags and the environment (``LINEWATCH_PILOT__*``); every value
used is copied into the report's assumptions.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pipelines.kpis import KpiOptions, KpiPrices
from services.pilot.decision import DEFAULT_ACTION_COSTS, ModeCosts

ARMS = ("run_to_failure", "preventive", "predictive")


class PilotConfig(BaseModel):
    """One pilot: the same plant and seeds under each maintenance policy."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seeds: list[int] = Field(default=[1, 2, 3], min_length=1)
    days: float = Field(default=7.0, gt=0, le=3650)
    start: datetime = datetime(2026, 1, 5, tzinfo=timezone.utc)
    step_minutes: float = Field(
        default=120.0, gt=0,
        description="Decision step in simulated minutes: alerts are reviewed and commands issued this often.")
    score_every: int = Field(default=30, ge=1, description="Score every N-th sample per machine (60 s samples).")
    arms: list[Literal["run_to_failure", "preventive", "predictive"]] = Field(default=list(ARMS), min_length=1)
    intervals_h: dict[str, float] = Field(
        default_factory=dict, description="Preventive interval per failure mode; missing modes use the default.")
    interval_fraction: float = Field(
        default=0.7, gt=0, le=2,
        description="Default preventive interval = this fraction of the mode's mean life seen in the run-to-failure arm.")
    predictive: Literal["inprocess", "kafka"] = "inprocess"
    train_if_missing: bool = Field(default=True, description="Train a quick model on separate seeds if none.")
    training_days: float = Field(
        default=60.0, gt=0, description="Simulated history for that model (60 days: enough robot failures to train).")
    shadow_scoring: bool = Field(
        default=True, description="Score the run-to-failure arm too (alerts not acted on) to measure alert quality.")
    cooldown_h: float = Field(default=6.0, ge=0, description="Predictive: ignore alerts this soon after a restoration.")
    cooldown_life_fraction: float = Field(
        default=0.25, ge=0, le=1, description="Predictive: per-mode cooldown = this fraction of the mean life, if longer.")
    cost_gate: bool = Field(
        default=True, description="Predictive: act only when expected cost favours it (services.pilot.decision).")
    action_costs: dict[str, ModeCosts] = Field(
        default_factory=lambda: dict(DEFAULT_ACTION_COSTS),
        description="Predictive: the plant's rate card per mode (planned and repair hours and parts cost).")
    group_ratio: float = Field(
        default=0.5, ge=0, le=1,
        description="Predictive: on a machine stopped anyway, act on alerts at this share of their threshold.")
    prices: KpiPrices = Field(default_factory=KpiPrices)
    kpi: KpiOptions = Field(default_factory=KpiOptions)
    confidence: float = Field(default=0.95, gt=0.5, lt=1)


class PilotPaths(BaseModel):
    """Where the report goes: ``latest.json`` is what the API serves (``GET /pilot/reports/latest``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    report_dir: Path = Path("var/pilot")

    @property
    def latest_json(self) -> Path:
        return self.report_dir / "latest.json"

    @property
    def latest_html(self) -> Path:
        return self.report_dir / "latest.html"
