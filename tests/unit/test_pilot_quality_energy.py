"""Scrap and excess energy in the maintenance decisions (issue 13 item 4), on hand-made cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from contracts import HealthScore, MaintenanceDone, PartCompleted
from contracts.plant import load_plant
from services.pilot.baseline import Lives, age_replacement, running_cost_curves, running_cost_rate
from services.pilot.decision import ActionRule, ModeCosts
from services.pilot.policies import Predictive

T0 = datetime(2026, 1, 5, tzinfo=UTC)
A = "line-1/cnc-01"
COSTS = {"tool_wear": ModeCosts(planned_hours=0.1, planned_parts_cost=40, repair_hours=1, repair_parts_cost=120)}
# 180 s ideal cycle: stop cost 920 CNY/h, C_plan = 40 + 0.1 × 920 = 132, C_fail = 120 + 920 = 1040
RULE = ActionRule(costs=COSTS, model_thresholds={"tool_wear": 0.3}, labour_per_hour=120, technicians_per_job=1,
                  lost_production_per_part=40, group_ratio=0.5, scrap_per_defect=25, energy_per_kwh=0.8)


def test_running_cost_is_excess_parts_times_prices_over_the_horizon() -> None:
    # 4 h × 20 parts/h × (0.05 × 25 + 0.1 kWh × 0.8) = 80 × 1.33
    assert RULE.running_cost(4, 20, 0.05, 0.1) == pytest.approx(106.4)
    assert RULE.running_cost(4, 20, -0.05, -0.1) == 0.0        # below the healthy level: nothing to save


def test_high_defect_risk_makes_acting_win_where_repair_cost_alone_waits() -> None:
    # p = 0.1 is below the model threshold and the break-even 132 / 1040: repair cost alone says wait
    assert not RULE.should_act("tool_wear", 0.1, 180)
    # 3.9 h × 20 parts/h × 0.08 excess defects × 25 CNY = 156 ≥ 132: the scrap pays for the tool change
    assert RULE.should_act("tool_wear", 0.1, 180, running=RULE.running_cost(3.9, 20, 0.08, 0))
    # 0.05 excess: 97.5 < 132, still wait; on a stopped machine 97.5 ≥ 0.5 × 132: do it in the same stop
    small = RULE.running_cost(3.9, 20, 0.05, 0)
    assert not RULE.should_act("tool_wear", 0.1, 180, running=small)
    assert RULE.should_act("tool_wear", 0.1, 180, machine_stopped=True, running=small)
    # with an open alert the failure risk and the scrap add up: 0.3 × 1040 = 312 alone already acts
    assert RULE.waiting_cost("tool_wear", 0.3, 180, running=small) == pytest.approx(312 + small)


@pytest.mark.parametrize("stopped", [False, True])
def test_without_scrap_or_energy_the_rule_is_the_failure_only_threshold(stopped: bool) -> None:
    rule = ActionRule(costs={**COSTS, "spindle_bearing": ModeCosts(planned_hours=8, planned_parts_cost=2500,
                                                                   repair_hours=10, repair_parts_cost=3000)},
                      model_thresholds={"tool_wear": 0.3, "spindle_bearing": 0.2}, group_ratio=0.5)
    for mode in ("tool_wear", "spindle_bearing"):
        limit = rule.threshold(mode, 180) * (0.5 if stopped else 1.0)
        for p in np.linspace(0, 1, 201):
            assert rule.should_act(mode, float(p), 180, machine_stopped=stopped) == (p >= limit - 1e-12), (mode, p)


def score(at: datetime, risk: float, p: float = 0.05) -> HealthScore:
    return HealthScore(score_id=f"{A}|{at.isoformat()}|m", machine_id=A, ts=at, model_version="m", health=50,
                       horizon_hours=24, mode_horizon_hours={"tool_wear": 4.0},
                       failure_probability={"tool_wear": p}, defect_risk=risk)


def parts(start: datetime, n: int, kwh: float = 0.2) -> list[PartCompleted]:
    return [PartCompleted(event_id=f"p-{start.isoformat()}-{i}", machine_id=A, ts=start + timedelta(minutes=3 * i),
                          part_id=f"x{i}", cycle_time_s=180, ideal_cycle_time_s=180, energy_kwh=kwh, good=True)
            for i in range(n)]


def healthy_policy() -> tuple[Predictive, datetime]:
    """A machine seen for 12 h at a healthy defect risk of 0.05 (1 % per part), 20 parts per hour."""
    pol = Predictive(cooldown_h=6, rule=RULE, quality_share={"tool_wear": 1.0}, energy_share={"tool_wear": 1.0},
                     defect_parts=5)
    now = T0
    for step in range(24):
        now = T0 + timedelta(minutes=30 * (step + 1))
        pol.observe(parts(now - timedelta(minutes=30), 10), [], [score(now, 0.05)])
        assert pol.due(now) == []                              # healthy: nothing above its own level
    return pol, now


def test_a_rising_defect_risk_orders_the_tool_without_any_alert() -> None:
    pol, now = healthy_policy()
    assert pol.parts_per_hour(A, now) == pytest.approx(20)
    now += timedelta(minutes=30)
    pol.observe(parts(now - timedelta(minutes=30), 10), [], [score(now, 0.2)])   # 4.4 % per part: +3.4 %
    # R = 4 h × 20 × 0.034 × 25 = 68 < 132: wait
    assert pol.excess_defect(A) == pytest.approx((1 - 0.8 ** 0.2) - (1 - 0.95 ** 0.2))
    assert pol.due(now) == []
    now += timedelta(minutes=30)
    pol.observe(parts(now - timedelta(minutes=30), 10), [], [score(now, 0.4)])   # 9.7 % per part: R ≈ 174
    cmds = pol.due(now)
    assert [(c.machine_id, c.action, c.alert_id, c.reason) for c in cmds] == [(A, "replace_tool", None, "predictive")]
    later = now + timedelta(minutes=30)
    pol.observe([], [], [score(later, 0.4)])
    assert pol.due(later) == []                                # ordered, not yet restored: not ordered twice
    done = MaintenanceDone(event_id="m", machine_id=A, ts=later, action="replace_tool", component="tool",
                           planned=True, duration_s=360)
    pol.observe([done], [], [score(later + timedelta(minutes=30), 0.4)])
    assert pol.due(later + timedelta(minutes=30)) == []        # restored: cooldown, even if the risk is still high


def test_excess_energy_is_measured_against_the_machine_own_healthy_power() -> None:
    pol, now = healthy_policy()
    assert pol.excess_kwh(A) == 0.0
    now += timedelta(minutes=30)
    pol.observe(parts(now - timedelta(minutes=30), 10, kwh=0.3), [], [score(now, 0.05)])
    assert pol.excess_kwh(A) == pytest.approx(0.1)             # 6 kW against a healthy 4 kW, 180-s parts
    # R = 4 h × 20 × 0.1 kWh × 0.8 = 6.4: energy alone does not pay for a tool change here
    assert pol.running_cost(A, "tool_wear", now) == pytest.approx(6.4)
    assert pol.due(now) == []


def test_no_scores_or_no_shares_leave_the_failure_only_policy() -> None:
    pol = Predictive(cooldown_h=6, rule=RULE)                  # no shares: R is 0 whatever the scores say
    pol.observe(parts(T0, 10), [], [score(T0 + timedelta(minutes=30), 0.05)] * 20 + [score(T0, 0.99)])
    assert pol.running_cost(A, "tool_wear", T0 + timedelta(hours=1)) == 0.0
    assert pol.due(T0 + timedelta(hours=1)) == []


def test_running_cost_shortens_the_optimal_replacement_age() -> None:
    rng = np.random.default_rng(0)
    n = 400
    wear = rng.weibull(4.0, n) * 100.0
    lives = Lives(np.zeros(n), wear, np.ones(n, bool))
    plain = age_replacement(lives, c_plan=100, c_fail=1000, t_plan_h=1, t_fail_h=5)
    zero = age_replacement(lives, c_plan=100, c_fail=1000, t_plan_h=1, t_fail_h=5, running=lambda t: 0.0)
    assert zero["interval_h"] == plain["interval_h"] and zero["rate_at_interval"] == plain["rate_at_interval"]
    curve = {"age_h": [25, 50, 75, 1000], "excess_defect": [0, 0.01, 0.05, 0.1], "excess_kwh_per_part": [0] * 4,
             "parts_per_h": 20}
    c = running_cost_rate(curve, scrap_per_defect=25, energy_per_kwh=0.8)
    assert (c(10), c(40), c(60), c(90)) == pytest.approx((0, 5, 25, 50))   # CNY per hour
    worn = age_replacement(lives, c_plan=100, c_fail=1000, t_plan_h=1, t_fail_h=5, running=c)
    assert worn["interval_h"] < plain["interval_h"]
    assert running_cost_rate(curve, 0, 0)(90) == 0.0


def test_running_cost_curves_grow_with_age_and_restart_at_the_tool_change() -> None:
    plant = load_plant(Path(__file__).resolve().parents[2] / "simulators" / "plants" / "demo.yaml")
    m = plant.machines("cnc")[0].id
    # 40 one-hour parts: bad at ages 10-11 h (noise) and 30-35 h (wear); 6 kW from 20 h against a healthy 4 kW
    evs: list[object] = [PartCompleted(event_id=f"p{i}", machine_id=m, ts=T0 + timedelta(hours=i), part_id=f"x{i}",
                                       cycle_time_s=180, ideal_cycle_time_s=180, energy_kwh=0.3 if i >= 20 else 0.2,
                                       good=not (10 <= i < 12 or 30 <= i < 36)) for i in range(40)]
    curves = running_cost_curves(evs, {}, plant, T0, T0 + timedelta(hours=40), share={}, bins=4)
    tool = curves["tool_wear"]
    assert tool["parts"] == [10, 10, 10, 10]
    # bin defect rates 0, 0.2, 0, 0.6: a wearing tool never gets better, so the dip is pooled (0.1, 0.1)
    assert tool["excess_defect"] == pytest.approx([0.0, 0.1, 0.1, 0.6])
    assert tool["excess_kwh_per_part"] == pytest.approx([0.0, 0.0, 0.1, 0.1])   # 2 kW × 180 s
    assert tool["parts_per_h"] == pytest.approx(1.0)
    # a tool change at 20 h restarts the tool's age: the worn parts now sit at ages 10-15 h, beside the noise
    done = MaintenanceDone(event_id="m", machine_id=m, ts=T0 + timedelta(hours=19, minutes=30),
                           action="replace_tool", component="tool", planned=True, duration_s=360)
    again = running_cost_curves([*evs, done], {}, plant, T0, T0 + timedelta(hours=40), share={}, bins=4)["tool_wear"]
    assert again["age_h"][-1] < 20 < tool["age_h"][-1]
