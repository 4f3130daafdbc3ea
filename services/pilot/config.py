"""Pilot settings: which arms, how many seeds, how long, at which prices.

Built once by the CLI from flags and the environment (``LINEWATCH_PILOT__*``); every value
used is copied into the report's assumptions.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.failure_modes import PLANNING_LEAD_H
from pipelines.kpis import KpiOptions, KpiPrices
from pipelines.training.config import TrainConfig
from services.pilot.decision import DEFAULT_ACTION_COSTS, ModeCosts

ARMS = ("run_to_failure", "preventive", "predictive")


class PilotConfig(BaseModel):
    """One pilot: the same plant and seeds under each maintenance policy."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seeds: list[int] = Field(default=list(range(1, 11)), min_length=1)
    days: float = Field(default=14.0, gt=0, le=3650)
    workers: int = Field(default=2, ge=1, le=64,
                         description="Processes running the arm × seed jobs (in-process source only; 1 = serial).")
    start: datetime = datetime(2026, 1, 5, tzinfo=UTC)
    step_minutes: float = Field(
        default=30.0, gt=0,
        description="Decision step in simulated minutes: alerts are reviewed and commands issued this often. "
                    "30 = the scoring cadence (score_every 30 × 60-s samples); a 2-h review missed most tool "
                    "alerts (median shadow lead 0.8 h, planning lead 0.5 h). The same step for every arm.")
    score_every: int = Field(default=30, ge=1, description="Score every N-th sample per machine (60 s samples).")
    arms: list[Literal["run_to_failure", "preventive", "predictive"]] = Field(default=list(ARMS), min_length=1)
    intervals_h: dict[str, float] = Field(
        default_factory=dict, description="Preventive interval per failure mode; missing modes use the default.")
    predictive: Literal["inprocess", "kafka"] = "inprocess"
    train_if_missing: bool = Field(default=True, description="Train a quick model on separate seeds if none.")
    training_days: float = Field(
        default=60.0, gt=0, description="Simulated history for that model (60 days: enough robot failures to train).")
    shadow_scoring: bool = Field(
        default=True, description="Score the run-to-failure arm too (alerts not acted on) to measure alert quality.")
    cooldown_h: float = Field(default=6.0, ge=0, description="Predictive: ignore alerts this soon after a restoration.")
    cooldown_life_fraction: float = Field(
        default=0.25, ge=0, le=1,
        description="Predictive: per-mode cooldown = this fraction of the mean life, if longer.")
    cost_gate: bool = Field(
        default=True, description="Predictive: act only when expected cost favours it (services.pilot.decision).")
    action_costs: dict[str, ModeCosts] = Field(
        default_factory=lambda: dict(DEFAULT_ACTION_COSTS),
        description="Predictive: the plant's rate card per mode (planned and repair hours and parts cost).")
    group_ratio: float = Field(
        default=0.5, ge=0, le=1,
        description="Predictive: on a machine stopped anyway, act on alerts at this share of their threshold.")
    price_quality_energy: bool = Field(
        default=True,
        description="Price the scrap and excess energy of a wearing component (prices.scrap_per_defect, "
                    "prices.energy_per_kwh) in the predictive rule and, the same way, in the preventive interval "
                    "optimisation; False = repair and stop costs only (the rule before issue 13 item 4).")
    defect_parts: int = Field(
        default=TrainConfig.model_fields["defect_parts"].default, ge=1,
        description="The champions' defect risk is P(a defect among the next N parts): this N (training label).")
    prices: KpiPrices = Field(default_factory=KpiPrices)
    kpi: KpiOptions = Field(default_factory=KpiOptions)
    confidence: float = Field(default=0.95, gt=0.5, lt=1)
    price_sources: dict[str, str] = Field(
        default_factory=dict,
        description="Where each KpiPrices field came from (field -> source); missing: the KpiPrices default.")
    rate_card_source: str = Field(
        default="built-in demo rate card (contracts/failure_modes.py): planner's quotes, not measured",
        description="Where action_costs came from; printed in the report next to each price.")
    rate_card_sources: dict[str, str] = Field(
        default_factory=dict,
        description="Per rate-card price ('MODE.FIELD') that is not the built-in card's, where it came from: the "
                    "plant's file (``--rate-card FILE``) or, once the pilot has applied it, the history estimate. "
                    "A price named here is never replaced by a (further) history estimate.")
    repair_costs_from_history: bool = Field(
        default=True,
        description="Estimate each mode's repair_hours and repair_parts_cost as the mean over the corrective "
                    "repairs in the training history (MaintenanceDone events), where the plant's rate card does "
                    "not give them and the history holds at least min_repairs_for_estimate repairs.")
    min_repairs_for_estimate: int = Field(default=3, ge=1)
    alert_windows_h: dict[str, float] = Field(
        default_factory=dict,
        description="Per-mode horizon: an alert is true if a same-mode failure follows within it. Missing modes: "
                    "max(2 × planning lead, min(horizon_life_fraction × median training life, 168 h)).")
    horizon_life_fraction: float = Field(default=0.25, gt=0, le=1)
    planning_lead_h: dict[str, float] = Field(
        default_factory=lambda: dict(PLANNING_LEAD_H),
        description="Time the plant needs to plan each mode's action; default: the failure-mode catalogue's "
                    "(contracts/failure_modes.py: tool at the next cycle break; filter, seals and fan next shift; "
                    "bearing and reducer: parts and a technician booked, two days).")

    def alert_window_h(self, median_life_h: dict[str, float] | None = None) -> dict[str, float]:
        """Per-mode horizon (see ``alert_windows_h``); ``median_life_h`` from the training history."""
        lives = median_life_h or {}
        out = {}
        for m in sorted(set(self.planning_lead_h) | set(self.alert_windows_h) | set(lives)):
            if m in self.alert_windows_h:
                out[m] = self.alert_windows_h[m]
            elif m in lives:
                out[m] = round(max(2 * self.planning_lead_h.get(m, 0.0),
                                   min(self.horizon_life_fraction * lives[m], 168.0)), 1)
            else:
                out[m] = self.kpi.alert_window_hours
        return out
