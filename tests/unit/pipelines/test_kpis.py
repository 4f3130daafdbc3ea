"""KPI engine on hand-made event sequences with hand-computed figures (docs/kpis.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from contracts import AlertAction, AlertEvent, FailureOccurred, MaintenanceDone, PartCompleted, StateChanged
from pipelines.kpis import KpiInputError, KpiOptions, KpiPrices, compute_kpis, improvements, plant_kpis

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
END = T0 + timedelta(hours=10)
M1, M2 = "line-1/cnc-01", "line-2/robot-01"


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def state(mid: str, at: float, old: str, new: str) -> StateChanged:
    return StateChanged(event_id=f"{mid}:s:{at}", machine_id=mid, ts=h(at), from_state=old, to_state=new)


def machine_one() -> list:
    """10 h: failure 10:00-11:00 (repair 1 h), planned service 14:00-14:30, 16 parts of 0.5 h ideal, 2 bad."""
    events: list = [state(M1, 2, "running", "down"), state(M1, 3, "down", "running"),
                    state(M1, 6, "running", "maintenance"), state(M1, 6.5, "maintenance", "running")]
    events.append(FailureOccurred(event_id=f"{M1}:f:1", machine_id=M1, ts=h(2), mode="tool_wear", component="tool"))
    events.append(MaintenanceDone(event_id=f"{M1}:m:1", machine_id=M1, ts=h(3), action="replace_tool",
                                  component="tool", planned=False, duration_s=3600, reason="corrective",
                                  parts_cost=500))
    events.append(MaintenanceDone(event_id=f"{M1}:m:2", machine_id=M1, ts=h(6.5), action="service_spindle_bearing",
                                  component="spindle_bearing", planned=True, duration_s=1800, reason="preventive",
                                  parts_cost=100))
    for i in range(16):
        events.append(PartCompleted(event_id=f"{M1}:p:{i}", machine_id=M1, ts=h(0.5 + i * 0.55), part_id=f"P{i}",
                                    cycle_time_s=1900, ideal_cycle_time_s=1800, energy_kwh=0.5, good=i not in (3, 9)))
    return events


def alerts() -> list[AlertEvent]:
    def alert(at: float) -> AlertEvent:
        return AlertEvent(alert_id=f"a{at}", machine_id=M1, ts=h(at), action=AlertAction.RAISED, mode="tool_wear",
                          priority="medium", probability=0.8, model_version="m-1")
    return [alert(1), alert(8)]


def test_hand_computed_machine_kpis() -> None:
    k = compute_kpis(machine_one(), alerts=alerts(), start=T0, end=END, scope="machine")[M1]
    assert k.availability == pytest.approx(8.5 / 10)          # running 8.5 h of 10 h
    assert k.performance == pytest.approx(8.0 / 8.5)          # 16 × 0.5 h ideal in 8.5 h running
    assert k.quality == pytest.approx(14 / 16)
    assert k.oee == pytest.approx(0.7)                        # 0.85 × 16/17 × 0.875
    assert k.mtbf_hours == pytest.approx(8.5)
    assert k.mttr_hours == pytest.approx(1.0)
    assert k.unplanned_downtime_hours == pytest.approx(1.0)
    assert k.planned_downtime_hours == pytest.approx(0.5)
    assert k.defect_rate == pytest.approx(2 / 16)
    assert k.energy_kwh == pytest.approx(8.0)
    assert k.energy_per_good_part_kwh == pytest.approx(8.0 / 14)
    assert k.energy_utilisation_parts_per_kwh == pytest.approx(14 / 8.0)


def test_hand_computed_costs() -> None:
    prices = KpiPrices(labour_per_hour=120, technicians_per_job=1, lost_production_per_part=40,
                       energy_per_kwh=0.8, scrap_per_defect=25)
    k = compute_kpis(machine_one(), start=T0, end=END, scope="machine", prices=prices)[M1]
    assert k.maintenance_parts_cost == pytest.approx(600)
    assert k.maintenance_labour_cost == pytest.approx(1.5 * 120)       # 1 h repair + 0.5 h service
    assert k.lost_production_cost == pytest.approx(1.5 * 3600 / 1800 * 40)  # 3 parts not made
    assert k.maintenance_cost == pytest.approx(600 + 180 + 120)
    assert k.energy_cost == pytest.approx(6.4)
    assert k.scrap_cost == pytest.approx(50)
    assert k.operating_cost == pytest.approx(956.4)


def test_alert_precision_recall_lead_time() -> None:
    k = compute_kpis(machine_one(), alerts=alerts(), start=T0, end=END, scope="machine",
                     options=KpiOptions(alert_window_hours=4))[M1]
    assert k.alerts_raised == 2
    assert k.alert_precision == pytest.approx(0.5)             # 09:00 precedes the failure, 16:00 does not
    assert k.alert_recall == pytest.approx(1.0)
    assert k.alert_lead_time_median_hours == pytest.approx(1.0)
    assert k.false_alerts_per_machine_week == pytest.approx(1 / (10 / 168))
    short = compute_kpis(machine_one(), alerts=alerts(), start=T0, end=END, scope="machine",
                         options=KpiOptions(alert_window_hours=0.5))[M1]
    assert short.alert_precision == 0.0 and short.alert_recall == 0.0


def test_strict_iso_availability_excludes_planned_downtime() -> None:
    k = compute_kpis(machine_one(), start=T0, end=END, scope="machine",
                     options=KpiOptions(planned_downtime_in_busy_time=False))[M1]
    assert k.availability == pytest.approx(8.5 / 9.5)


def machine_two() -> list:
    """No state log: 4 parts, one repair of 2 h taken from the maintenance event's duration."""
    events: list = [FailureOccurred(event_id="f2", machine_id=M2, ts=h(4), mode="reducer_wear", component="joint3"),
                    MaintenanceDone(event_id="m2", machine_id=M2, ts=h(6), action="replace_reducer",
                                    component="joint3", planned=False, duration_s=7200, reason="corrective")]
    for i in range(4):
        events.append(PartCompleted(event_id=f"{M2}:p:{i}", machine_id=M2, ts=h(1 + i * 2), part_id=f"R{i}",
                                    cycle_time_s=3600, ideal_cycle_time_s=3600, energy_kwh=1.0, good=i != 0))
    return events


def test_line_and_plant_pool_totals_not_ratios() -> None:
    events = machine_one() + machine_two()
    lines = compute_kpis(events, start=T0, end=END, scope="line")
    assert set(lines) == {"line-1", "line-2"}
    assert lines["line-2"].availability == pytest.approx(8 / 10)
    assert lines["line-2"].totals["state_source"] == "maintenance_durations"
    plant = plant_kpis(events, start=T0, end=END)
    assert plant.availability == pytest.approx((8.5 + 8) / 20)
    assert plant.defect_rate == pytest.approx(3 / 20)
    assert plant.mtbf_hours == pytest.approx((8.5 + 8) / 2)
    assert plant.mttr_hours == pytest.approx((1 + 2) / 2)
    assert plant.energy_per_good_part_kwh == pytest.approx(12 / 17)


def test_dataframe_input_gives_the_same_figures() -> None:
    events = machine_one() + machine_two()
    table = pd.DataFrame([e.model_dump(mode="json") for e in events])
    table["ts"] = table["ts"].astype(str)
    a = plant_kpis(events, start=T0, end=END)
    b = plant_kpis(table, start=T0.isoformat(), end=END.isoformat())
    assert a.model_dump(exclude={"totals"}) == b.model_dump(exclude={"totals"})


def test_time_range_filters_and_state_before_start_carries_over() -> None:
    k = compute_kpis(machine_one(), start=h(2.5), end=h(4.5), scope="machine")[M1]
    assert k.unplanned_downtime_hours == pytest.approx(0.5)   # down since 10:00, repaired 11:00
    assert k.availability == pytest.approx(0.75)
    assert k.failures == 0 and k.mtbf_hours is None           # the failure itself is before the range


def test_improvement_names_formula_and_inputs() -> None:
    base = plant_kpis(machine_one(), start=T0, end=END)
    better = [e for e in machine_one() if not (isinstance(e, PartCompleted) and e.part_id == "P3")]
    now = plant_kpis(better, start=T0, end=END)
    dr = {i.name: i for i in improvements(base, now, baseline="run-to-failure")}["defect_rate_reduction"]
    assert dr.formula == "(DR_base − DR_now) / DR_base"
    assert dr.inputs == {"DR_base": pytest.approx(2 / 16), "DR_now": pytest.approx(1 / 15)}
    assert dr.value == pytest.approx((2 / 16 - 1 / 15) / (2 / 16))
    assert dr.target == 0.10 and dr.met is True and dr.baseline == "run-to-failure"


@pytest.mark.parametrize("bad, message", [
    ([{"machine_id": M1, "ts": "2026-01-05T08:00:00+00:00", "kind": "explosion"}], "unknown kind"),
    ([{"machine_id": M1, "kind": "failure"}], "'ts' column"),
    (["not an event"], "cannot read"),
])
def test_bad_input_gets_a_clear_error(bad: list, message: str) -> None:
    with pytest.raises(KpiInputError, match=message):
        compute_kpis(bad)


def test_naive_times_and_empty_ranges_are_refused() -> None:
    with pytest.raises(KpiInputError, match="no timezone"):
        compute_kpis(machine_one(), start=datetime(2026, 1, 5), end=END)  # noqa: DTZ001 - the naive time under test
    with pytest.raises(KpiInputError, match="must be after"):
        compute_kpis(machine_one(), start=END, end=T0)
    with pytest.raises(KpiInputError, match="no events"):
        compute_kpis([])


def test_alerts_are_mode_matched_by_default() -> None:
    wrong = [AlertEvent(alert_id="b", machine_id=M1, ts=T0 + (h(1) - T0), action=AlertAction.RAISED,
                        mode="spindle_bearing", priority="medium", probability=0.8, model_version="m-1")]
    strict = compute_kpis(machine_one(), alerts=wrong, start=T0, end=END, scope="machine",
                          options=KpiOptions(alert_window_hours=4))[M1]
    assert strict.alert_precision == 0.0 and strict.alert_recall == 0.0   # it warned of another mode
    loose = compute_kpis(machine_one(), alerts=wrong, start=T0, end=END, scope="machine",
                         options=KpiOptions(alert_window_hours=4, match_alert_mode=False))[M1]
    assert loose.alert_precision == 1.0
