"""The physics line as the PLC faces see it: the ``LatestSamples`` protocol, pacing, state tag."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from contracts import MachineState, MaintenanceCommand, TelemetrySample
from contracts.plant import Plant, load_plant
from simulators.physics.line import DEFAULT_START, Line
from simulators.plc.__main__ import build_line, parser
from simulators.plc.lines import STATE_CODES, LatestSamples, PacedLine, SyntheticLine, state_code

DEMO = Path(__file__).resolve().parents[3] / "simulators" / "plants" / "demo.yaml"


@pytest.fixture(scope="module")
def plant() -> Plant:
    data = load_plant(DEMO).model_dump()
    data["lines"][0]["machines"] = data["lines"][0]["machines"][:2]
    data["lines"][1]["machines"] = data["lines"][1]["machines"][:1]
    return Plant.model_validate(data)


def test_physics_line_satisfies_latest_samples(plant: Plant) -> None:
    line = Line(plant, seed=3)
    assert isinstance(line, LatestSamples)
    assert isinstance(PacedLine(line, 60), LatestSamples) and isinstance(SyntheticLine({}), LatestSamples)
    assert line.machine_ids() == ["line-1/cnc-01", "line-1/cnc-02", "line-2/robot-01"]
    for mid in line.machine_ids():
        assert line.signals(mid) == [s.name for s in plant.machine(mid).sensors]
    first, second = line.step(), line.step()
    for batch, minutes in ((first, 1), (second, 2)):
        assert set(batch) == set(line.machine_ids())
        for mid, sample in batch.items():
            assert isinstance(sample, TelemetrySample) and sample.machine_id == mid
            assert set(sample.signals) == set(line.signals(mid))
            assert sample.ts == DEFAULT_START + timedelta(minutes=minutes)
    assert line.latest("line-1/cnc-01") is second["line-1/cnc-01"]


def test_paced_line_advances_speed_times_period_and_repeats_between_ticks(plant: Plant) -> None:
    paced = PacedLine(Line(plant, seed=3), sim_step_s=30)  # half a 60 s sample period per face update
    stamps = [s["line-1/cnc-01"].ts if s else None for s in (paced.step() for _ in range(4))]
    # 30 s: no sample yet (machine absent), 60 s: first, 90 s: same again, 120 s: second
    assert stamps == [None, DEFAULT_START + timedelta(minutes=1), DEFAULT_START + timedelta(minutes=1),
                      DEFAULT_START + timedelta(minutes=2)]
    with pytest.raises(ValueError):
        PacedLine(Line(plant), 0)


def test_state_tag_follows_maintenance(plant: Plant) -> None:
    line = Line(plant, seed=3)
    line.step()
    assert state_code(line.latest("line-1/cnc-01")) == STATE_CODES[MachineState.RUNNING] == 1
    line.apply(MaintenanceCommand(command_id="c1", machine_id="line-1/cnc-01", ts=line.now,
                                  action="service_spindle_bearing", component="spindle_bearing"))
    line.step()
    assert line.latest("line-1/cnc-01").state == MachineState.MAINTENANCE
    assert state_code(line.latest("line-1/cnc-01")) == 4
    assert len(set(STATE_CODES.values())) == len(STATE_CODES)


def test_launcher_serves_physics_by_default_synthetic_only_on_request() -> None:
    args = parser().parse_args(["opcua", "--port", "1", "--machines", "line-1/cnc-02,line-2/robot-03",
                                "--seed", "5", "--speed", "120", "--period", "0.5"])
    line = build_line(args)
    assert isinstance(line, PacedLine) and line.sim_step_s == 60
    assert line.machine_ids() == ["line-1/cnc-02", "line-2/robot-03"]
    # a subset draws exactly what the same machines draw in the whole plant (per-machine generators)
    whole = Line(load_plant(DEMO), seed=5)
    whole.step_until(DEFAULT_START + timedelta(minutes=1))
    assert line.step()["line-2/robot-03"].signals == whole.latest("line-2/robot-03").signals
    synthetic = build_line(parser().parse_args(["modbus", "--port", "1", "--synthetic"]))
    grid = build_line(parser().parse_args(["modbus", "--port", "1", "--grid", "2x3"]))
    assert isinstance(synthetic, SyntheticLine) and isinstance(grid, SyntheticLine)
    assert len(grid.machine_ids()) == 2
    with pytest.raises(SystemExit):
        build_line(parser().parse_args(["opcua", "--port", "1", "--machines", "line-9/nope"]))
