"""The predictive policy's expected-cost action rule, on hand-made cases with hand-computed costs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from contracts import AlertAction, AlertEvent, MachineState, MaintenanceDone, PartCompleted, StateChanged
from services.pilot.decision import ActionRule, ModeCosts
from services.pilot.policies import Predictive

T0 = datetime(2026, 1, 5, tzinfo=UTC)
A, B = "line-1/cnc-01", "line-1/cnc-02"
COSTS = {
    "tool_wear": ModeCosts(planned_hours=0.1, planned_parts_cost=40, repair_hours=1, repair_parts_cost=120),
    "spindle_bearing": ModeCosts(planned_hours=8, planned_parts_cost=2500, repair_hours=10, repair_parts_cost=3000),
}
# 180 s ideal cycle = 20 parts/h × 40 CNY margin + 1 technician × 120 CNY/h = 920 CNY per stopped hour
RULE = ActionRule(costs=COSTS, model_thresholds={"tool_wear": 0.3, "spindle_bearing": 0.2},
                  labour_per_hour=120, technicians_per_job=1, lost_production_per_part=40, group_ratio=0.5)


def test_costs_follow_the_rate_card_and_the_lost_margin() -> None:
    assert RULE.hour_cost(180) == pytest.approx(920)
    assert RULE.hour_cost(None) == pytest.approx(120)           # cycle unknown: labour only
    assert RULE.action_cost("tool_wear", 180) == pytest.approx(40 + 0.1 * 920)
    assert RULE.failure_cost("tool_wear", 180) == pytest.approx(120 + 920)
    assert RULE.action_cost("spindle_bearing", 180) == pytest.approx(2500 + 8 * 920)   # 9860
    assert RULE.failure_cost("spindle_bearing", 180) == pytest.approx(3000 + 10 * 920)  # 12200


def test_threshold_is_the_break_even_probability_floored_by_the_model() -> None:
    # tool: break-even 132 / 1040 = 0.127 < model threshold 0.3 -> the model's threshold rules
    assert RULE.threshold("tool_wear", 180) == pytest.approx(0.3)
    # bearing: an 8 h service against a 10 h repair is only worth it when failure is likely
    assert RULE.threshold("spindle_bearing", 180) == pytest.approx(9860 / 12200)
    assert not RULE.should_act("spindle_bearing", 0.75, 180)
    assert RULE.should_act("spindle_bearing", 0.85, 180)
    # a stopped machine: half the threshold is enough (grouping)
    assert RULE.should_act("spindle_bearing", 0.45, 180, machine_stopped=True)
    assert not RULE.should_act("spindle_bearing", 0.35, 180, machine_stopped=True)
    # no rate card for the mode: the model's own threshold
    assert RULE.threshold("coolant", 180) == 0.0


def test_report_description_lists_costs_and_thresholds() -> None:
    row = RULE.describe({"spindle_bearing": 180.0})["spindle_bearing"]
    assert (row["action_cost"], row["failure_cost"]) == (9860.0, 12200.0)
    assert row["act_threshold"] == pytest.approx(0.8082, abs=1e-4)
    assert row["act_threshold_when_stopped"] == pytest.approx(0.4041, abs=1e-4)


def alert(machine: str, mode: str, p: float, at: datetime = T0, action: AlertAction = AlertAction.RAISED,
          raised: datetime = T0) -> AlertEvent:
    return AlertEvent(alert_id=f"{machine}|{mode}|{raised.isoformat()}", machine_id=machine, ts=at, action=action,
                      mode=mode, priority="low", probability=p, model_version="m")


def part(machine: str) -> PartCompleted:
    return PartCompleted(event_id=f"p-{machine}", machine_id=machine, ts=T0, part_id="x", cycle_time_s=190,
                         ideal_cycle_time_s=180, energy_kwh=0.2, good=True)


def policy() -> Predictive:
    p = Predictive(cooldown_h=6, rule=RULE)
    p.observe([part(A), part(B)], [])
    return p


def test_low_probability_alert_waits_and_acts_when_its_probability_rises() -> None:
    p = policy()
    p.observe([], [alert(A, "spindle_bearing", 0.5)])
    assert p.due(T0) == []                                   # 0.5 < 0.81: waiting is cheaper
    p.observe([], [alert(A, "spindle_bearing", 0.9, T0 + timedelta(hours=2), AlertAction.UPDATED)])
    cmds = p.due(T0 + timedelta(hours=2))
    assert [(c.machine_id, c.action, c.alert_id) for c in cmds] == [
        (A, "service_spindle_bearing", alert(A, "spindle_bearing", 0.5).alert_id)]
    p.observe([], [alert(A, "spindle_bearing", 0.95, T0 + timedelta(hours=3), AlertAction.UPDATED)])
    assert p.due(T0 + timedelta(hours=3)) == []              # already acted on this alert


def test_cleared_alert_is_never_acted_on() -> None:
    p = policy()
    p.observe([], [alert(A, "spindle_bearing", 0.5)])
    p.observe([], [alert(A, "spindle_bearing", 0.1, T0 + timedelta(hours=1), AlertAction.CLEARED)])
    assert p.due(T0 + timedelta(hours=1)) == []


def test_grouping_adds_nearly_due_actions_on_the_machine_being_stopped() -> None:
    p = policy()
    p.observe([], [alert(A, "tool_wear", 0.9), alert(A, "spindle_bearing", 0.5), alert(B, "spindle_bearing", 0.5)])
    cmds = p.due(T0)
    # A is stopped for its tool change: its bearing (0.5 ≥ 0.5 × 0.81) goes in the same stop; B waits
    assert sorted((c.machine_id, c.action) for c in cmds) == [(A, "replace_tool"), (A, "service_spindle_bearing")]


def test_a_machine_down_for_repair_gets_its_nearly_due_actions() -> None:
    p = policy()
    p.observe([StateChanged(event_id="s", machine_id=B, ts=T0, from_state=MachineState.RUNNING,
                            to_state=MachineState.DOWN)], [alert(B, "spindle_bearing", 0.5)])
    assert [c.machine_id for c in p.due(T0)] == [B]
    p.observe([StateChanged(event_id="s2", machine_id=A, ts=T0, from_state=MachineState.DOWN,
                            to_state=MachineState.RUNNING)], [alert(A, "spindle_bearing", 0.5)])
    assert p.due(T0) == []                                   # running again: the full threshold applies


def test_alert_raised_right_after_a_restoration_is_dropped() -> None:
    p = policy()
    done = MaintenanceDone(event_id="m", machine_id=A, ts=T0, action="replace_tool", component="tool",
                           planned=True, duration_s=360)
    at = T0 + timedelta(hours=1)
    p.observe([done], [alert(A, "tool_wear", 0.95, at, raised=at)])
    assert p.due(at) == []
    p.observe([], [alert(A, "tool_wear", 0.99, at + timedelta(hours=8), AlertAction.UPDATED, raised=at)])
    assert p.due(at + timedelta(hours=8)) == []              # the stale alert stays dropped
