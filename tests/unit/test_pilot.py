"""Pilot orchestration: statistics, policies, the age-replacement baseline, alert quality, report."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps
from test_pilot_fakes import FakeLine, WearAlerts

from contracts import AlertAction, AlertEvent, MaintenanceDone
from contracts.plant import load_plant
from services.pilot import alertq
from services.pilot.baseline import Lives, age_replacement, kaplan_meier
from services.pilot.config import PilotConfig
from services.pilot.html import render_html
from services.pilot.pilot import run_pilot
from services.pilot.policies import FixedInterval, Predictive, RunToFailure
from services.pilot.stats import interval, seeds_needed

ROOT = Path(__file__).resolve().parents[2]
PLANT = load_plant(ROOT / "simulators" / "plants" / "demo.yaml")
T0 = datetime(2026, 1, 5, tzinfo=UTC)
M = "line-1/cnc-01"


def test_interval_matches_hand_computed_t_interval() -> None:
    ci = interval([1.0, 2.0, 3.0])
    half = 4.302653 / math.sqrt(3)                 # t(0.975, 2) × sd 1 / √3
    assert ci["mean"] == pytest.approx(2.0) and ci["sd"] == pytest.approx(1.0)
    assert (ci["low"], ci["high"]) == (pytest.approx(2 - half, rel=1e-5), pytest.approx(2 + half, rel=1e-5))
    assert interval([None, 5.0])["low"] is None and interval([])["mean"] is None


def test_seeds_needed_uses_student_t_not_z() -> None:
    n = seeds_needed(0.1, 0.05)
    t = lambda k: sps.t.ppf(0.975, k - 1) + sps.t.ppf(0.8, k - 1)
    assert n >= (t(n) * 2) ** 2 and n - 1 < (t(n - 1) * 2) ** 2      # the smallest n that satisfies it
    assert n > math.ceil(((1.959964 + 0.841621) * 2) ** 2)             # more than the z shortcut claims
    assert seeds_needed(0.2, 0.05) > n


def test_fixed_interval_orders_once_and_restarts_on_maintenance() -> None:
    policy = FixedInterval(plant=PLANT, intervals_h={"tool_wear": 10}, start=T0)
    assert policy.due(T0 + timedelta(hours=9)) == []
    due = policy.due(T0 + timedelta(hours=10))
    assert {c.machine_id for c in due} == {m.id for m in PLANT.machines("cnc")}
    assert all(c.action == "replace_tool" and c.reason == "preventive" for c in due)
    assert policy.due(T0 + timedelta(hours=11)) == []  # already ordered, not yet done
    done = MaintenanceDone(event_id="m", machine_id=M, ts=T0 + timedelta(hours=12), action="replace_tool",
                           component="tool", planned=True, duration_s=600)
    policy.observe([done], [])
    assert policy.due(T0 + timedelta(hours=21)) == []
    assert [c.machine_id for c in policy.due(T0 + timedelta(hours=22))] == [M]


def test_fixed_interval_starts_from_the_cmms_age_in_calendar_hours() -> None:
    policy = FixedInterval(plant=PLANT, intervals_h={"spindle_bearing": 100}, start=T0, running_share={"cnc": 0.5})
    policy.know_ages({(M, "spindle_bearing"): 40.0})  # 40 running hours at a 50 % running share = 80 h fitted
    assert policy.due(T0 + timedelta(hours=19)) == []
    assert [c.machine_id for c in policy.due(T0 + timedelta(hours=20))] == [M]


def alert(at: datetime, mode: str = "spindle_bearing", action: AlertAction = AlertAction.RAISED,
          machine: str = M) -> AlertEvent:
    return AlertEvent(alert_id=f"{machine}|{mode}|{at.isoformat()}", machine_id=machine, ts=at, action=action,
                      mode=mode, priority="high", probability=0.8, model_version="m")


def test_predictive_acts_once_per_raised_alert_outside_cooldown() -> None:
    policy = Predictive(cooldown_h=6)
    policy.observe([], [alert(T0), alert(T0, action=AlertAction.UPDATED)])
    cmds = policy.due(T0)
    assert [(c.action, c.reason, c.alert_id) for c in cmds] == [("service_spindle_bearing", "predictive",
                                                                 alert(T0).alert_id)]
    policy.observe([], [alert(T0)])                # the same alert replayed: no second command
    assert policy.due(T0) == []
    done = MaintenanceDone(event_id="m", machine_id=M, ts=T0 + timedelta(hours=1), action="service_spindle_bearing",
                           component="spindle_bearing", planned=True, duration_s=600)
    policy.observe([done], [alert(T0 + timedelta(hours=2))])
    assert policy.due(T0 + timedelta(hours=2)) == []  # within the cooldown after the service
    policy.observe([], [alert(T0 + timedelta(hours=8))])
    assert len(policy.due(T0 + timedelta(hours=8))) == 1
    assert RunToFailure().due(T0) == []


def test_kaplan_meier_with_delayed_entry_matches_a_hand_computation() -> None:
    # A enters at 0, fails at 10; B enters at 5, censored at 12; C enters at 0, fails at 20.
    lives = Lives(np.array([0.0, 5.0, 0.0]), np.array([10.0, 12.0, 20.0]), np.array([True, False, True]))
    times, surv = kaplan_meier(lives)
    assert times.tolist() == [10.0, 20.0]
    assert surv.tolist() == pytest.approx([1 - 1 / 3, (1 - 1 / 3) * (1 - 1 / 1)])
    late = Lives(np.array([0.0, 15.0]), np.array([10.0, 20.0]), np.array([True, True]))
    assert kaplan_meier(late)[1].tolist() == pytest.approx([0.0, 0.0])  # B was not at risk at 10


def test_age_replacement_replaces_wearing_parts_and_leaves_random_failures_alone() -> None:
    rng = np.random.default_rng(0)
    n = 400
    wear = rng.weibull(4.0, n) * 100.0                  # rising hazard: replace before most would fail
    opt = age_replacement(Lives(np.zeros(n), wear, np.ones(n, bool)), c_plan=100, c_fail=1000,
                          t_plan_h=1, t_fail_h=5)
    assert opt["interval_h"] is not None and 20 < opt["interval_h"] < 80
    assert opt["rate_at_interval"] < opt["rate_run_to_failure"]
    memoryless = rng.exponential(100.0, n)              # constant hazard: replacing early only adds cost
    none = age_replacement(Lives(np.zeros(n), memoryless, np.ones(n, bool)), c_plan=100, c_fail=1000,
                           t_plan_h=1, t_fail_h=5)
    assert none["interval_h"] is None and "run to failure" in none["reason"]


def test_alert_matching_is_per_mode_with_a_hand_counted_example() -> None:
    f = [(M, "tool_wear", T0 + timedelta(hours=10)), (M, "spindle_bearing", T0 + timedelta(hours=50))]
    raised = [(M, "tool_wear", T0 + timedelta(hours=8)),        # true: tool failure 2 h later
              (M, "tool_wear", T0 + timedelta(hours=1)),        # false: 9 h before, window 4 h
              (M, "spindle_bearing", T0 + timedelta(hours=9))]  # false for tools, true for the bearing (41 h, 72 h)
    c = alertq.match(raised, f, {"tool_wear": 4.0, "spindle_bearing": 72.0}, T0, T0 + timedelta(days=3))
    assert (c["tool_wear"]["alerts"], c["tool_wear"]["true"], c["tool_wear"]["detected"]) == (2, 1, 1)
    assert c["tool_wear"]["leads_h"] == [pytest.approx(2.0)]
    assert (c["spindle_bearing"]["true"], c["spindle_bearing"]["leads_h"]) == (1, [pytest.approx(41.0)])


def test_no_skill_alerter_raises_as_often_as_the_model_on_every_machine() -> None:
    machines = {"tool_wear": [m.id for m in PLANT.machines("cnc")]}
    phases = alertq.periodic(machines, {"tool_wear": 12}, T0, T0 + timedelta(days=2))
    assert len(phases) == 4 and all(len(p) == 12 for p in phases)
    assert {mid for mid, _, _ in phases[0]} == set(machines["tool_wear"])  # every machine, 2 each, 24 h apart
    first = sorted(ts for mid, _, ts in phases[0] if mid == M)
    assert first[1] - first[0] == timedelta(hours=4 * 6)  # 48 h / 12 alerts × 6 machines


def test_alarm_figures_count_floods_chattering_and_stale_alerts() -> None:
    burst = [alert(T0 + timedelta(minutes=i % 5), machine=f"line-1/cnc-0{i % 6 + 1}", mode=f"m{i}") for i in range(11)]
    chatter = [alert(T0 + timedelta(hours=5)), alert(T0 + timedelta(hours=5, minutes=30))]
    cleared = alert(T0 + timedelta(hours=5, minutes=30), action=AlertAction.CLEARED)
    fig = alertq.alarm_figures(burst + chatter + [cleared], T0, T0 + timedelta(hours=48))
    assert fig["alerts"] == 13 and fig["alerts_per_operator_hour"] == pytest.approx(13 / 48)
    assert fig["flood_window_share"] == pytest.approx(1 / (48 * 6))   # one 10-min window with > 10
    assert fig["chattering_alerts"] == 1                                # same machine and mode within 1 h
    assert fig["stale_alerts"] == 12   # open > 24 h: every alert except the one that cleared
    assert fig["priority_split"] == {"high": 1.0}


def pilot(seeds: list[int], **kw: object) -> dict:
    config = PilotConfig(seeds=seeds, days=8, start=T0, step_minutes=60, training_days=30, workers=1, **kw)
    return run_pilot(PLANT, config, FakeLine, sources=lambda plant, seed: WearAlerts(),
                     predictive_label="fake-wear-threshold")


@pytest.fixture(scope="module")
def report() -> dict:
    return pilot([1, 2, 3])


def test_report_has_lines_modes_intervals_and_paired_improvements(report: dict) -> None:
    import json

    assert json.loads(json.dumps(report, allow_nan=False)) is not None  # what the CLI writes: plain JSON types
    assert set(report["arms"]) == {"run_to_failure", "preventive", "predictive"}
    assert set(report["arms"]["predictive"]) == {"plant", "line-1", "line-2"}
    failures = report["arms"]["run_to_failure"]["plant"]["kpis"]["failures"]
    assert failures["n"] == 3 and failures["low"] <= failures["mean"] <= failures["high"]
    per_mode = report["modes"]["run_to_failure"]
    assert sum(m["failures"]["mean"] for m in per_mode.values()) == pytest.approx(failures["mean"])
    assert report["assumptions"]["commands_issued"]["run_to_failure"] == 0
    basis = report["assumptions"]["preventive_interval_basis"]
    assert report["assumptions"]["preventive_intervals_h"], "intervals optimised on the training history"
    for mode, t in report["assumptions"]["preventive_intervals_h"].items():
        assert basis[mode]["reason"] == "argmin of the age-replacement cost rate"
        assert basis[mode]["exercised"] == (8 * 24 >= 2 * t)
    assert report["training_basis"]["seed"] not in report["config"]["seeds"]
    dr = next(r for r in report["improvements"] if r["name"] == "defect_rate_reduction" and r["scope"] == "plant"
              and r["baseline"] == "run_to_failure" and r["arm"] == "predictive")
    by_seed = report["arms"]["run_to_failure"]["plant"]["per_seed"], report["arms"]["predictive"]["plant"]["per_seed"]
    expected = [(b["defect_rate"] - n["defect_rate"]) / b["defect_rate"] for b, n in zip(*by_seed, strict=True)]
    assert [s["value"] for s in dr["per_seed"]] == pytest.approx(expected)
    assert dr["formula"] == "(DR_base − DR_now) / DR_base"
    assert {r["scope"] for r in report["improvements"]} == {"plant", "line-1", "line-2"}


def test_alert_quality_sits_beside_the_no_skill_and_rule_baselines(report: dict) -> None:
    q = report["alert_quality"]
    tool = q["modes"]["tool_wear"]
    assert set(tool) >= {"model", "no_skill", "rule", "precision_gain_over_no_skill", "checks", "line"}
    assert tool["no_skill"]["alerts"] == pytest.approx(tool["model"]["alerts"])  # same alert rate
    gain = tool["model"]["precision"] - tool["no_skill"]["precision"]
    assert tool["precision_gain_over_no_skill"] == pytest.approx(gain)
    assert set(q["lines"]) == {"line-1", "line-2"}
    assert report["alarm_system"]["alerts_per_operator_hour"]["n"] == 3


def test_targets_say_plainly_whether_they_are_met_with_confidence(report: dict) -> None:
    for t in report["targets"]:
        expected = ("met with confidence" if t["low"] is not None and t["low"] >= t["target"] else
                    "not met with confidence (met on average)" if t["mean"] >= t["target"] else "not met")
        assert t["verdict"] == expected


def test_same_seeds_give_the_same_numbers(report: dict) -> None:
    again = pilot([1, 2, 3])
    for key in ("arms", "improvements", "targets", "assumptions", "alert_quality"):
        assert again[key] == report[key]
    other = pilot([4])["arms"]["run_to_failure"]["plant"]["per_seed"][0]
    first = report["arms"]["run_to_failure"]["plant"]["per_seed"][0]
    assert {k: v for k, v in other.items() if k != "seed"} != {k: v for k, v in first.items() if k != "seed"}


def test_html_shows_the_figures_of_the_report(report: dict) -> None:
    page = render_html(report)
    assert "data:image/png;base64," in page
    for t in report["targets"]:
        assert f"{t['mean'] * 100:+.1f} %" in page and t["verdict"] in page
    gain = report["alert_quality"]["modes"]["tool_wear"]["precision_gain_over_no_skill"]
    assert f"{gain:+.2f}" in page
    assert "labour_per_hour" in page and "age-replacement" in page
