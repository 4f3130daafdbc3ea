"""The predictive policy's action rule: act on an alert only when expected cost favours it.

For an open alert of mode m on machine x with calibrated probability p (failure within the
model's horizon), the planner compares

- acting now:  C_plan = planned parts + planned hours × h_x
- waiting:     p × C_fail, with C_fail = repair parts + repair hours × h_x

where h_x is what an hour of machine x standing still costs: technicians × labour rate +
(3600 / ideal cycle time) × lost margin per part (the KPI engine's own cost definitions,
with the ideal cycle time read from the line's ``PartCompleted`` events). It acts when
p ≥ max(bundle threshold of m, C_plan / C_fail) — the Bayes rule for calibrated
probabilities, floored by the model's own alert threshold.

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
    """The plant's maintenance rate card for one failure mode (planner's figures, not measured)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    planned_hours: float = Field(ge=0, description="Duration of the planned action (machine stopped).")
    planned_parts_cost: float = Field(ge=0, description="Parts and consumables of the planned action.")
    repair_hours: float = Field(ge=0, description="Expected corrective repair duration after a failure.")
    repair_parts_cost: float = Field(ge=0, description="Parts and extra damage of a corrective repair.")


#: Default rate card of the demo plant (CNY, hours): what a maintenance planner quotes from the
#: CMMS and supplier prices (the failure-mode catalogue's ``costs``). A real pilot replaces it with
#: the plant's own (``--action-costs``).
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
        """Probability above which acting is cheaper than waiting: max(model threshold, C_plan / C_fail)."""
        floor = self.model_thresholds.get(mode, 0.0)
        if mode not in self.costs:
            return floor  # no rate card for this mode: trust the model's own alert threshold
        fail = self.failure_cost(mode, ideal_cycle_s)
        breakeven = self.action_cost(mode, ideal_cycle_s) / fail if fail > 0 else 1.0
        return max(floor, min(1.0, breakeven))

    def should_act(self, mode: str, probability: float, ideal_cycle_s: float | None,
                   machine_stopped: bool = False) -> bool:
        """Act now? The full threshold normally; ``group_ratio`` of it when the machine is stopped anyway."""
        limit = self.threshold(mode, ideal_cycle_s)
        return probability >= (self.group_ratio * limit if machine_stopped else limit)

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
                         "act_threshold_when_stopped": round(self.group_ratio * self.threshold(mode, cycle), 4)}
        return out
