"""The predictive policy's action rule: act on a component only when expected cost favours it.

For mode m on machine x, over the model's horizon H_m (the window its failure probability
p refers to), the planner compares

- acting now:  C_plan = planned parts + planned hours × h_x
- waiting:     W = p̂ × C_fail + R, with C_fail = repair parts + repair hours × h_x and
               R = H_m × n_x × (Δq × scrap price + Δe × energy price)

where h_x is what an hour of machine x standing still costs: technicians × labour rate +
(3600 / ideal cycle time) × lost margin per part (the KPI engine's own cost definitions,
with the ideal cycle time read from the line's ``PartCompleted`` events); n_x the parts x
makes per hour (counted over the last day); Δq the per-part defect probability above the
machine's own healthy level implied by the scorer's predicted defect risk, Δe the measured
energy per part above the machine's healthy level on the same program, each times the share
of that excess the mode's wear explains in the plant's history (``policies.Predictive``
measures them; ``pilot.running_cost_curves`` estimates the shares). p̂ = p when an alert of
m is open with p at or above the model's own alert threshold, else 0: below its threshold
the model claims no failure. It acts when W ≥ C_plan (and W > 0). With R = 0 this is
exactly p ≥ max(model threshold, C_plan / C_fail), the Bayes rule for calibrated
probabilities floored by the model's threshold; R lets scrap and excess energy alone pay for
a planned action, with or without an alert. All prices are the pilot's (``KpiPrices`` and the
rate card, its repair prices estimated from the training history): the report lists each
and its source.

Opportunistic grouping: when machine x is stopped anyway (a command is being issued for it
this review, or it is down or in maintenance), every other open alert on x whose probability
reaches ``group_ratio`` × its threshold is acted on in the same stop: those actions are
nearly due, and one hand-over to maintenance is cheaper than two (lock-out, restart and
first-part checks, which the KPI engine does not price, so the pilot claims no saving for them).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from contracts.failure_modes import CATALOGUE


class ModeCosts(BaseModel):
    """The plant's maintenance rate card for one failure mode (planner's figures; the pilot estimates
    the repair ones from the training history where the plant gives none, ``pilot.with_history_rate_card``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    planned_hours: float = Field(ge=0, description="Duration of the planned action (machine stopped).")
    planned_parts_cost: float = Field(ge=0, description="Parts and consumables of the planned action.")
    repair_hours: float = Field(ge=0, description="Expected corrective repair duration after a failure.")
    repair_parts_cost: float = Field(ge=0, description="Parts and extra damage of a corrective repair.")


#: Default rate card of the demo plant (CNY, hours): what a maintenance planner quotes from the
#: CMMS and supplier prices (the failure-mode catalogue's ``costs``). A real pilot replaces it with
#: the plant's own (``linewatch pilot --rate-card FILE``); the pilot replaces the repair prices
#: nobody set with the training history's means.
DEFAULT_ACTION_COSTS: dict[str, ModeCosts] = {
    m.id: ModeCosts(planned_hours=m.costs.planned_hours, planned_parts_cost=m.costs.planned_parts_cost,
                    repair_hours=m.costs.repair_hours, repair_parts_cost=m.costs.repair_parts_cost)
    for m in CATALOGUE}


@dataclass(frozen=True)
class ActionRule:
    """Expected-cost gate and grouping for alert-driven maintenance (see the module docstring)."""

    costs: dict[str, ModeCosts]
    model_thresholds: dict[str, float]
    labour_per_hour: float = 120.0
    technicians_per_job: float = 1.0
    lost_production_per_part: float = 40.0
    group_ratio: float = 0.5
    scrap_per_defect: float = 0.0
    energy_per_kwh: float = 0.0

    def hour_cost(self, ideal_cycle_s: float | None) -> float:
        """What one hour of a stopped machine costs (labour + lost margin); labour only if the rate is unknown."""
        parts_per_hour = 3600.0 / ideal_cycle_s if ideal_cycle_s and ideal_cycle_s > 0 else 0.0
        return self.technicians_per_job * self.labour_per_hour + parts_per_hour * self.lost_production_per_part

    def action_cost(self, mode: str, ideal_cycle_s: float | None) -> float:
        """C_plan: cost of doing the planned action now."""
        c = self.costs[mode]
        return c.planned_parts_cost + c.planned_hours * self.hour_cost(ideal_cycle_s)

    def failure_cost(self, mode: str, ideal_cycle_s: float | None) -> float:
        """C_fail: cost of letting the component fail and repairing it."""
        c = self.costs[mode]
        return c.repair_parts_cost + c.repair_hours * self.hour_cost(ideal_cycle_s)

    def threshold(self, mode: str, ideal_cycle_s: float | None) -> float:
        """Failure probability above which acting pays when R = 0: max(model threshold, C_plan / C_fail)."""
        floor = self.model_thresholds.get(mode, 0.0)
        if mode not in self.costs:
            return floor  # no rate card for this mode: trust the model's own alert threshold
        fail = self.failure_cost(mode, ideal_cycle_s)
        breakeven = self.action_cost(mode, ideal_cycle_s) / fail if fail > 0 else 1.0
        return max(floor, min(1.0, breakeven))

    def running_cost(self, hours: float, parts_per_hour: float, excess_defect: float, excess_kwh: float) -> float:
        """R: scrap and energy a degraded component costs over ``hours`` beyond a healthy one (≥ 0)."""
        per_part = max(0.0, excess_defect) * self.scrap_per_defect + max(0.0, excess_kwh) * self.energy_per_kwh
        return max(0.0, hours) * max(0.0, parts_per_hour) * per_part

    def waiting_cost(self, mode: str, probability: float, ideal_cycle_s: float | None, running: float = 0.0,
                     machine_stopped: bool = False) -> float:
        """W = p̂ × C_fail + R; p̂ = p from the model's alert threshold up (``group_ratio`` of it when stopped)."""
        floor = self.model_thresholds.get(mode, 0.0) * (self.group_ratio if machine_stopped else 1.0)
        p = probability if probability >= floor else 0.0
        return p * self.failure_cost(mode, ideal_cycle_s) + max(0.0, running)

    def should_act(self, mode: str, probability: float, ideal_cycle_s: float | None,
                   machine_stopped: bool = False, running: float = 0.0) -> bool:
        """Act now? W ≥ C_plan normally; W ≥ ``group_ratio`` × C_plan when the machine is stopped anyway.

        ``running`` is R, the excess scrap and energy cost over the mode's horizon
        (:meth:`running_cost`). A mode without a rate card: the model's own threshold.
        """
        ratio = self.group_ratio if machine_stopped else 1.0
        if mode not in self.costs:
            return probability >= ratio * self.model_thresholds.get(mode, 0.0)
        wait = self.waiting_cost(mode, probability, ideal_cycle_s, running, machine_stopped)
        return wait > 0 and wait >= ratio * self.action_cost(mode, ideal_cycle_s)

    def describe(self, cycle_by_mode: dict[str, float]) -> dict[str, dict[str, float]]:
        """Per-mode C_plan, C_fail and thresholds at the typical ideal cycle time of the mode's machines."""
        out = {}
        for mode in sorted(self.costs):
            cycle = cycle_by_mode.get(mode)
            out[mode] = {"ideal_cycle_s": cycle, "stop_cost_per_hour": round(self.hour_cost(cycle), 1),
                         "action_cost": round(self.action_cost(mode, cycle), 1),
                         "failure_cost": round(self.failure_cost(mode, cycle), 1),
                         "model_threshold": round(self.model_thresholds.get(mode, 0.0), 4),
                         "act_threshold": round(self.threshold(mode, cycle), 4),
                         "act_threshold_when_stopped": round(self.group_ratio * self.threshold(mode, cycle), 4),
                         "scrap_per_defect": self.scrap_per_defect, "energy_per_kwh": self.energy_per_kwh}
        return out
