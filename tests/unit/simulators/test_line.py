"""The simulated line: deterministic stream, contract messages, commands, failure rates."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from contracts import EVENTS, TELEMETRY, ContractError, MachineState, MaintenanceCommand
from contracts.errors import ConfigError
from contracts.plant import FAILURE_MODES, Plant, load_plant
from simulators.physics.cnc import CncParams, CncPhysics
from simulators.physics.line import DEFAULT_START, Line
from simulators.physics.robot import RobotParams, RobotPhysics

DEMO = Path(__file__).resolve().parents[3] / "simulators" / "plants" / "demo.yaml"


@pytest.fixture(scope="module")
def plant() -> Plant:
    return load_plant(DEMO)


def small(plant: Plant, cnc: int = 1, robots: int = 1) -> Plant:
    data = plant.model_dump()
    data["lines"][0]["machines"] = data["lines"][0]["machines"][:cnc]
    data["lines"][1]["machines"] = data["lines"][1]["machines"][:robots]
    return Plant.model_validate(data)


def stream(plant: Plant, seed: int, hours: float) -> list[bytes]:
    line = Line(plant, seed=seed)
    samples, events = line.step_until(DEFAULT_START + timedelta(hours=hours))
    return [TELEMETRY.encode(s) for s in samples] + [EVENTS.encode(e) for e in events]


def test_same_seed_same_stream_different_seed_different(plant: Plant) -> None:
    a, b, c = stream(plant, 7, 6), stream(plant, 7, 6), stream(plant, 8, 6)
    assert a == b
    assert a != c
    assert len(a) > 10 * 6 * 60  # every machine samples every minute, plus events


def test_stream_is_contract_messages_in_time_order_with_unique_ids(plant: Plant) -> None:
    line = Line(plant, seed=3)
    samples, events = line.step_until(DEFAULT_START + timedelta(days=1))
    assert [s.ts for s in samples] == sorted(s.ts for s in samples)
    per_machine = Counter(s.machine_id for s in samples)
    assert set(per_machine.values()) == {24 * 60}
    seqs = [s.seq for s in samples if s.machine_id == "line-1/cnc-01"]
    assert seqs == list(range(len(seqs)))
    ids = [e.event_id for e in events]
    assert len(ids) == len(set(ids))
    kinds = Counter(e.kind for e in events)
    assert kinds["part_completed"] > 500 and kinds["state_changed"] > 10
    # hidden state never leaks: only the plant's declared sensors are on the wire
    declared = {s.name for m in plant.machines() for s in m.sensors}
    assert {n for s in samples for n in s.signals} <= declared
    assert any(v is None for s in samples for v in s.signals.values())  # dropouts happen
    assert any(s.quality for s in samples)


def test_maintenance_command_stops_for_the_planned_time_and_restores(plant: Plant) -> None:
    line = Line(small(plant), seed=5)
    mid = "line-1/cnc-01"
    m = line.machines[mid]
    line.step_until(DEFAULT_START + timedelta(hours=1))
    m.physics.tool_u = 1.05  # a badly worn tool
    m.state = MachineState.RUNNING
    t_cmd = line.now
    line.apply(MaintenanceCommand(command_id="c-1", machine_id=mid, ts=t_cmd, action="replace_tool",
                                  component="tool", reason="predictive"))
    samples, events = line.step_until(t_cmd + timedelta(minutes=30))
    mine = [s for s in samples if s.machine_id == mid]
    assert [s.state for s in mine[:4]] == [MachineState.MAINTENANCE] * 4  # 5 min tool change
    assert mine[4].state != MachineState.MAINTENANCE
    changes = [(e.ts - t_cmd, e.to_state) for e in events if e.kind == "state_changed" and e.machine_id == mid]
    assert changes[:2] == [(timedelta(0), MachineState.MAINTENANCE), (timedelta(minutes=5), MachineState.RUNNING)]
    done = [e for e in events if e.kind == "maintenance_done" and e.machine_id == mid]
    assert len(done) == 1 and done[0].planned and done[0].command_id == "c-1" and done[0].reason == "predictive"
    assert done[0].duration_s == pytest.approx(300.0)
    assert m.physics.vb_mm < 0.15


def test_bad_commands_and_sensors_are_rejected_with_reasons(plant: Plant) -> None:
    line = Line(small(plant), seed=1)
    with pytest.raises(ContractError, match="does not apply to cnc"):
        line.apply(MaintenanceCommand(command_id="x", machine_id="line-1/cnc-01", ts=DEFAULT_START,
                                      action="replace_reducer", component="reducer"))
    with pytest.raises(ContractError, match="unknown machine"):
        line.apply(MaintenanceCommand(command_id="y", machine_id="line-9/cnc-01", ts=DEFAULT_START,
                                      action="replace_tool", component="tool"))
    data = small(plant).model_dump()
    data["lines"][0]["machines"][0]["sensors"].append({"name": "oil_level_mm", "normal_low": 1, "normal_high": 2})
    with pytest.raises(ConfigError, match="oil_level_mm"):
        Line(Plant.model_validate(data), seed=1)


def test_failure_rates_over_60_days_fall_within_configured_bounds() -> None:
    # Physics only (no sensors or messages), 80 % duty, ten-minute steps, four machines per kind.
    dt_h = 1 / 6
    for cls, params in ((CncPhysics, CncParams()), (RobotPhysics, RobotParams())):
        counts: Counter[str] = Counter()
        machines = 4
        for k in range(machines):
            phys = cls(params, np.random.default_rng(100 + k))
            down = 0.0
            for step in range(60 * 24 * 6):
                if down > 0:
                    down -= dt_h
                    phys.advance(dt_h, False, 22.0)
                    continue
                phys.advance(dt_h, step % 5 != 0, 22.0)
                mode = phys.failure()
                if mode:
                    counts[mode] += 1
                    phys.restore(mode)
                    down = sum(params.repair_h[mode]) / 2
        for mode in FAILURE_MODES[phys.kind]:
            low, high = params.failure_bounds_60d[mode]
            assert low <= counts[mode] / machines <= high, (mode, counts[mode] / machines)


def test_slower_sensors_report_on_their_own_period(plant: Plant) -> None:
    data = small(plant).model_dump()
    data["lines"] = data["lines"][:1]  # one CNC only
    data["lines"][0]["machines"][0]["sensors"][4]["sample_period_s"] = 300.0  # spindle_bearing_temp_c
    slow = data["lines"][0]["machines"][0]["sensors"][4]["name"]
    samples, _ = Line(Plant.model_validate(data), seed=2).step_until(DEFAULT_START + timedelta(hours=1))
    assert len(samples) == 60
    assert [s.seq for s in samples if slow in s.signals] == list(range(0, 60, 5))
    assert all(len(s.signals) >= 9 for s in samples)


def test_plc_face_protocol_gives_the_newest_sample_per_machine(plant: Plant) -> None:
    line = Line(small(plant), seed=6)
    assert line.latest("line-1/cnc-01") is None
    first = line.step()
    second = line.step()
    assert set(first) == set(line.machine_ids()) == {"line-1/cnc-01", "line-2/robot-01"}
    assert second["line-1/cnc-01"].seq == first["line-1/cnc-01"].seq + 1
    assert list(second["line-2/robot-01"].signals) == line.signals("line-2/robot-01")
    assert line.latest("line-2/robot-01") is second["line-2/robot-01"]


def test_any_plant_runs_other_periods_and_sensor_subsets() -> None:
    plant = Plant.model_validate({"id": "p", "lines": [{"id": "cell", "machines": [
        {"id": "r1", "kind": "robot", "name": "R1", "sensors": [
            {"name": "joint2_current_a", "normal_low": 1, "normal_high": 9, "sample_period_s": 10},
            {"name": "gripper_pressure_bar", "normal_low": 5, "normal_high": 7, "sample_period_s": 10}]},
        {"id": "m1", "kind": "cnc", "name": "M1", "sim": {"tool_life_ref_h": 2.0}, "sensors": [
            {"name": "spindle_power_kw", "normal_low": 1, "normal_high": 20, "sample_period_s": 30}]}]}]})
    samples, events = Line(plant, seed=1).step_until(DEFAULT_START + timedelta(hours=12))
    robot = [s for s in samples if s.machine_id == "cell/r1"]
    cnc = [s for s in samples if s.machine_id == "cell/m1"]
    assert len(robot) == 12 * 360 and len(cnc) == 12 * 120
    assert set(robot[0].signals) == {"joint2_current_a", "gripper_pressure_bar"}
    assert any(e.kind == "failure" and e.mode == "tool_wear" for e in events)  # short tool life from `sim:`


def test_commands_wait_for_a_repair_and_a_repaired_component_is_not_serviced_twice(plant: Plant) -> None:
    line = Line(small(plant), seed=8, faults=None)
    mid = "line-1/cnc-01"
    m = line.machines[mid]
    line.step_until(DEFAULT_START + timedelta(minutes=10))
    m.state = MachineState.RUNNING
    m.physics.tool_u = 5.0  # the edge breaks at the next running tick
    samples, events = line.step_until(line.now + timedelta(minutes=1))
    assert m.state == MachineState.DOWN
    for i, (action, comp) in enumerate((("replace_tool", "tool"), ("service_coolant", "coolant_system"))):
        line.apply(MaintenanceCommand(command_id=f"c{i}", machine_id=mid, ts=line.now, action=action,
                                      component=comp, reason="manual"))
    _, events = line.step_until(line.now + timedelta(hours=3))
    done = [e for e in events if e.kind == "maintenance_done" and e.machine_id == mid]
    assert [(e.action, e.planned, e.reason, e.command_id) for e in done[:2]] == [
        ("replace_tool", False, "corrective", None), ("service_coolant", True, "manual", "c1")]
    prices = CncParams().parts_cost
    assert done[0].parts_cost == 3 * prices["tool_wear"] and done[1].parts_cost == prices["coolant"]


def test_component_ages_are_the_cmms_record_and_restart_at_restoration(plant: Plant) -> None:
    line = Line(small(plant), seed=3, start=DEFAULT_START)
    before = line.component_ages()
    assert set(before) == {(m.id, mode) for m in small(plant).machines() for mode in m.failure_modes}
    assert before[("line-1/cnc-01", "spindle_bearing")] > 0  # components start part-worn
    twin = Line(small(plant), seed=3, start=DEFAULT_START)
    twin.component_ages()  # reading the record draws no random numbers: the streams stay identical
    until = DEFAULT_START + timedelta(hours=6)
    a, b = line.step_until(until), twin.step_until(until)
    assert [s.signals for s in a[0]] == [s.signals for s in b[0]]
    after = line.component_ages()
    grown = after[("line-1/cnc-01", "spindle_bearing")] - before[("line-1/cnc-01", "spindle_bearing")]
    assert 0 < grown <= 6.0 * 1.15  # load-weighted running hours: at most calendar time × the heaviest program
    line.apply(MaintenanceCommand(command_id="c1", machine_id="line-1/cnc-01", ts=until,
                                  action="service_spindle_bearing", component="spindle_bearing", reason="manual"))
    line.step_until(until + timedelta(hours=12))
    assert line.component_ages()[("line-1/cnc-01", "spindle_bearing")] <= 12 * 1.15  # fitted new by the service
