"""Pilot orchestration: policies, statistics, report assembly, reproducibility, HTML."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from test_pilot_fakes import FakeLine, WearAlerts

from contracts import AlertAction, AlertEvent, MaintenanceDone
from contracts.plant import load_plant
from services.pilot.config import PilotConfig
from services.pilot.html import render_html
from services.pilot.pilot import run_pilot
from services.pilot.policies import FixedInterval, Predictive, RunToFailure
from services.pilot.stats import interval, seeds_needed

ROOT = Path(__file__).resolve().parents[2]
PLANT = load_plant(ROOT / "simulators" / "plants" / "demo.yaml")
T0 = datetime(2026, 1, 5, tzinfo=timezone.utc)
M = "line-1/cnc-01"


def test_interval_matches_hand_computed_t_interval() -> None:
    ci = interval([1.0, 2.0, 3.0])
    half = 4.302653 / math.sqrt(3)                 # t(0.975, 2) × sd 1 / √3
    assert ci["mean"] == pytest.approx(2.0) and ci["sd"] == pytest.approx(1.0)
    assert (ci["low"], ci["high"]) == (pytest.approx(2 - half, rel=1e-5), pytest.approx(2 + half, rel=1e-5))
    assert interval([None, 5.0])["low"] is None and interval([])["mean"] is None


def test_seeds_needed_grows_with_noise() -> None:
    assert seeds_needed(0.1, 0.05) == math.ceil(((1.959964 + 0.841621) * 2) ** 2)
    assert seeds_needed(0.2, 0.05) > seeds_needed(0.1, 0.05)


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


def alert(at: datetime, mode: str = "spindle_bearing", action: AlertAction = AlertAction.RAISED) -> AlertEvent:
    return AlertEvent(alert_id=f"a|{mode}|{at.isoformat()}", machine_id=M, ts=at, action=action, mode=mode,
                      priority="high", probability=0.8, model_version="m")


def test_predictive_acts_once_per_raised_alert_outside_cooldown() -> None:
    policy = Predictive(cooldown_h=6)
    policy.observe([], [alert(T0), alert(T0, action=AlertAction.UPDATED)])
    cmds = policy.due(T0)
    assert [(c.action, c.reason, c.alert_id) for c in cmds] == [("service_spindle_bearing", "predictive", alert(T0).alert_id)]
    policy.observe([], [alert(T0)])                # the same alert replayed: no second command
    assert policy.due(T0) == []
    done = MaintenanceDone(event_id="m", machine_id=M, ts=T0 + timedelta(hours=1), action="service_spindle_bearing",
                           component="spindle_bearing", planned=True, duration_s=600)
    policy.observe([done], [alert(T0 + timedelta(hours=2))])
    assert policy.due(T0 + timedelta(hours=2)) == []  # within the cooldown after the service
    policy.observe([], [alert(T0 + timedelta(hours=8))])
    assert len(policy.due(T0 + timedelta(hours=8))) == 1
    assert RunToFailure().due(T0) == []


def pilot(seeds: list[int]) -> dict:
    config = PilotConfig(seeds=seeds, days=8, start=T0, step_minutes=60)
    return run_pilot(PLANT, config, FakeLine, sources=lambda plant, seed: WearAlerts(),
                     predictive_label="fake-wear-threshold")


@pytest.fixture(scope="module")
def report() -> dict:
    return pilot([1, 2, 3])


def test_report_has_every_arm_with_intervals_and_paired_improvements(report: dict) -> None:
    assert set(report["arms"]) == {"run_to_failure", "preventive", "predictive"}
    assert set(report["arms"]["predictive"]) == {"plant", "line-1", "line-2"}
    failures = report["arms"]["run_to_failure"]["plant"]["kpis"]["failures"]
    assert failures["n"] == 3 and failures["low"] <= failures["mean"] <= failures["high"]
    assert failures["mean"] > report["arms"]["predictive"]["plant"]["kpis"]["failures"]["mean"]
    assert report["assumptions"]["commands_issued"]["run_to_failure"] == 0
    assert report["assumptions"]["preventive_intervals_h"], "default intervals come from run-to-failure lives"
    dr = next(r for r in report["improvements"]
              if r["name"] == "defect_rate_reduction" and r["baseline"] == "run_to_failure" and r["arm"] == "predictive")
    by_seed = report["arms"]["run_to_failure"]["plant"]["per_seed"], report["arms"]["predictive"]["plant"]["per_seed"]
    expected = [(b["defect_rate"] - n["defect_rate"]) / b["defect_rate"] for b, n in zip(*by_seed)]
    assert [s["value"] for s in dr["per_seed"]] == pytest.approx(expected)
    assert dr["formula"] == "(DR_base − DR_now) / DR_base" and dr["met"] == (dr["mean"] >= 0.10)


def test_targets_are_judged_for_the_predictive_arm(report: dict) -> None:
    names = {(t["name"], t["baseline"]) for t in report["targets"]}
    assert names == {(n, b) for n in ("defect_rate_reduction", "energy_utilisation_increase",
                                      "operating_cost_reduction") for b in ("run_to_failure", "preventive")}
    for t in report["targets"]:
        assert t["met_with_confidence"] is None or not t["met_with_confidence"] or t["met"]


def test_same_seeds_give_the_same_numbers(report: dict) -> None:
    again = pilot([1, 2, 3])
    for key in ("arms", "improvements", "targets", "assumptions"):
        assert again[key] == report[key]
    other = pilot([4])["arms"]["run_to_failure"]["plant"]["per_seed"][0]
    first = report["arms"]["run_to_failure"]["plant"]["per_seed"][0]
    assert {k: v for k, v in other.items() if k != "seed"} != {k: v for k, v in first.items() if k != "seed"}


def test_html_marks_targets_and_lists_assumptions(report: dict) -> None:
    page = render_html(report)
    assert "data:image/png;base64," in page
    assert page.count("met") >= 6 and "operating_cost_reduction" in page
    assert "preventive intervals" in page and "labour_per_hour" in page
